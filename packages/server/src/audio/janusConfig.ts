/**
 * A private Janus configuration: only the AudioBridge plugin and the WebSocket transport on
 * loopback, on a port we choose, with an API secret so nothing else on the machine drives it.
 * Written by the server when it supervises Janus itself, and mirrored by scripts/audio.sh.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface JanusConfigOptions {
  dir: string;
  wsPort: number;
  apiSecret: string;
  /** UDP ports for ICE/RTP, "min-max". */
  rtpPortRange?: string;
  debugLevel?: number;
}

const OTHER_PLUGINS = ['duktape', 'echotest', 'lua', 'nosip', 'recordplay', 'sip', 'streaming', 'textroom', 'videocall', 'videoroom', 'voicemail'];
const OTHER_TRANSPORTS = ['http', 'mqtt', 'nanomsg', 'pfunix', 'rabbitmq'];
const EVENT_HANDLERS = ['gelfevh', 'mqttevh', 'nanomsgevh', 'rabbitmqevh', 'sampleevh', 'wsevh'];

const q = (s: string) => JSON.stringify(s); // libconfig strings use the same escapes as JSON

/** Writes janus.jcfg and the two plugin/transport files into dir; returns the main file's path. */
export function writeJanusConfig(o: JanusConfigOptions): string {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const lib = (names: string[], kind: string) => names.map((n) => `libjanus_${n}.so`).join(',') + (kind ? '' : '');
  const main = `# Written by Baton; rewritten on every start.
general: {
  configs_folder = ${q(o.dir)}
  log_to_stdout = true
  debug_level = ${o.debugLevel ?? 3}
  debug_timestamps = true
  server_name = "baton-audio"
  api_secret = ${q(o.apiSecret)}
  session_timeout = 60
  protected_folders = ["/bin", "/boot", "/dev", "/etc", "/initrd", "/lib", "/lib32", "/lib64", "/proc", "/sbin", "/sys", "/usr", "/var"]
}
media: {
  rtp_port_range = ${q(o.rtpPortRange ?? '20000-40000')}
}
nat: {
  nice_debug = false
  ice_ignore_list = "vmnet"
}
plugins: {
  disable = ${q(lib(OTHER_PLUGINS, ''))}
}
transports: {
  disable = ${q(lib(OTHER_TRANSPORTS, ''))}
}
events: {
  broadcast = false
  disable = ${q(lib(EVENT_HANDLERS, ''))}
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
`;
  const ws = `general: {
  json = "plain"
  ws = true
  ws_port = ${o.wsPort}
  ws_ip = "127.0.0.1"
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
`;
  const bridge = `general: {
  # Rooms are created over the API, one per conference; none are kept in this file.
  events = false
}
`;
  const file = path.join(o.dir, 'janus.jcfg');
  writeFileSync(file, main, { mode: 0o600 });
  writeFileSync(path.join(o.dir, 'janus.transport.websockets.jcfg'), ws, { mode: 0o600 });
  writeFileSync(path.join(o.dir, 'janus.plugin.audiobridge.jcfg'), bridge, { mode: 0o600 });
  return file;
}
