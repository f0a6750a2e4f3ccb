/** The small part of the `sip` npm package (pure JS, 0.0.6) that Baton uses: parse and print messages, digest auth. */
declare module 'sip' {
  export interface SipUri { schema?: string; user?: string; password?: string; host: string; port?: number; params: Record<string, string | null>; headers?: Record<string, string> }
  export interface SipMessage {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version?: string;
    headers: Record<string, any>;
    content?: string;
  }
  const sip: {
    parse(s: string): SipMessage | undefined;
    stringify(m: SipMessage): string;
    parseUri(s: string): SipUri | undefined;
    stringifyUri(u: SipUri | string): string;
    makeResponse(rq: SipMessage, status: number, reason?: string): SipMessage;
    generateBranch(): string;
  };
  export default sip;
}
declare module 'sip/digest.js' {
  import type { SipMessage } from 'sip';
  const digest: {
    signRequest(ctx: object, rq: SipMessage, rs: SipMessage, creds: { user: string; password: string }): object | null;
  };
  export default digest;
}
