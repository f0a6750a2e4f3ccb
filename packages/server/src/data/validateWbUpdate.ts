/**
 * Checks one Yjs update from an untrusted client before it touches the meeting's board, without
 * applying it: the update is decoded (garbage throws, and is refused), and every struct in it must
 * be a plain edit of the board's shape:
 *
 * - an element: an item in the root map `elements`, keyed by a valid element id, holding a Y.Map;
 * - a field: an item in an element's map, keyed by a known field name, holding one value that the
 *   field's schema accepts (protocol/src/whiteboard.ts);
 * - deletions of anything.
 *
 * Nothing may refer to what neither the board nor the update has (Yjs would keep such structs
 * "pending" in memory for ever), nor claim another participant's Yjs client id (two writers with one
 * id make replicas diverge). New elements count against the board's cap.
 */
import * as Y from 'yjs';
import { MAX_WB_ELEMENTS, WB_FIELDS, WB_ROOT, WbElementId, isWbField } from '@baton/protocol';

export type WbCheck = { ok: true; clients: number[]; newElements: number } | { ok: false; error: string };

type Parent = { kind: 'root'; name: string } | { kind: 'element'; id: string } | { kind: 'other' } | { kind: 'gone' };

interface Decoded {
  structs: Array<Y.Item | Y.GC | Y.Skip>;
  ds: { clients: Map<number, Array<{ clock: number; len: number }>> };
}

export function validateWbUpdate(doc: Y.Doc, update: Uint8Array, owns: (client: number) => boolean): WbCheck {
  let decoded: Decoded;
  try {
    decoded = Y.decodeUpdate(update) as unknown as Decoded;
  } catch {
    return { ok: false, error: 'the whiteboard update is not a Yjs update' };
  }
  const root = doc.getMap(WB_ROOT);
  // Items of this update by id, and what each client's clock reaches once it is applied.
  const local = new Map<string, Y.Item>();
  const reach = new Map<number, number>();
  const clients = new Set<number>();
  for (const s of decoded.structs) {
    const client = s.id.client;
    if (!(s instanceof Y.Skip)) clients.add(client);
    const from = reach.get(client) ?? Y.getState(doc.store, client);
    if (s.id.clock > from) return { ok: false, error: 'the whiteboard update depends on edits the server does not have; reload the board' };
    reach.set(client, Math.max(from, s.id.clock + s.length));
    if (s instanceof Y.Item) for (let i = 0; i < s.length; i++) local.set(`${client}:${s.id.clock + i}`, s);
  }
  for (const c of clients) if (!owns(c)) return { ok: false, error: 'the whiteboard update claims edits of another participant' };

  const known = (id: Y.ID): 'doc' | Y.Item | null => {
    const l = local.get(`${id.client}:${id.clock}`);
    if (l) return l;
    return id.clock < Y.getState(doc.store, id.client) ? 'doc' : null;
  };
  /** Where an item of the board lives: the root map, an element's map, or something else. */
  const typeParent = (item: Y.Item): Parent => {
    const parent = item.parent as Y.AbstractType<unknown> | null;
    if (!parent) return { kind: 'gone' };
    if (parent === root) return { kind: 'root', name: WB_ROOT };
    const owner = parent._item;
    if (owner && owner.parent === root && typeof owner.parentSub === 'string') return { kind: 'element', id: owner.parentSub };
    return { kind: 'other' };
  };
  /** The map an item of this update goes into, and its key there. */
  const placeOf = (item: Y.Item, depth = 0): { parent: Parent; key: string | null } | null => {
    if (depth > 64) return null;
    if (item.parent !== null) {
      if (typeof item.parent === 'string') return { parent: { kind: 'root', name: item.parent }, key: item.parentSub };
      const id = item.parent as unknown as Y.ID;
      const p = known(id);
      if (p === null) return null;
      if (p === 'doc') {
        const owner = Y.getItem(doc.store, id);
        if (!(owner instanceof Y.Item)) return { parent: { kind: 'gone' }, key: item.parentSub };
        if (!(owner.content instanceof Y.ContentType)) return { parent: { kind: 'other' }, key: item.parentSub };
        const where = typeParent(owner);
        return { parent: where.kind === 'root' && typeof owner.parentSub === 'string' ? { kind: 'element', id: owner.parentSub } : { kind: 'other' }, key: item.parentSub };
      }
      const where = placeOf(p, depth + 1);
      if (!where) return null;
      const isElement = where.parent.kind === 'root' && where.parent.name === WB_ROOT && p.content instanceof Y.ContentType && where.key !== null;
      return { parent: isElement ? { kind: 'element', id: where.key! } : { kind: 'other' }, key: item.parentSub };
    }
    // Parent info is left out when the item has a neighbour: it lives where that neighbour lives.
    const next = item.origin ?? item.rightOrigin;
    if (!next) return null;
    const n = known(next);
    if (n === null) return null;
    if (n === 'doc') {
      const neighbour = Y.getItem(doc.store, next);
      if (!(neighbour instanceof Y.Item)) return { parent: { kind: 'gone' }, key: null };
      return { parent: typeParent(neighbour), key: neighbour.parentSub };
    }
    return placeOf(n, depth + 1);
  };

  let newElements = 0;
  for (const s of decoded.structs) {
    if (!(s instanceof Y.Item)) continue; // GC and Skip carry no content
    for (const ref of [s.origin, s.rightOrigin]) if (ref && known(ref) === null) return { ok: false, error: 'the whiteboard update depends on edits the server does not have; reload the board' };
    const place = placeOf(s);
    if (!place) return { ok: false, error: 'the whiteboard update depends on edits the server does not have; reload the board' };
    const { parent, key } = place;
    if (parent.kind === 'gone') continue; // hangs off deleted content: Yjs drops it
    if (key === null) return { ok: false, error: 'the whiteboard holds maps only, not lists' };
    const content = s.content;
    if (content instanceof Y.ContentDeleted) continue;
    if (parent.kind === 'root') {
      if (parent.name !== WB_ROOT) return { ok: false, error: `the whiteboard has no '${parent.name.slice(0, 40)}'` };
      if (!WbElementId.safeParse(key).success) return { ok: false, error: 'a whiteboard element id is 1-40 letters, digits, - or _' };
      if (!(content instanceof Y.ContentType) || !(content.type instanceof Y.Map)) return { ok: false, error: 'a whiteboard element is a map of fields' };
      if (!root.has(key)) newElements++;
      continue;
    }
    if (parent.kind === 'other') return { ok: false, error: 'the whiteboard update edits something that is not an element' };
    if (!isWbField(key)) return { ok: false, error: `a whiteboard element has no field '${key.slice(0, 40)}'` };
    if (!(content instanceof Y.ContentAny) || content.arr.length !== 1) return { ok: false, error: `the field '${key}' holds one plain value` };
    const checked = WB_FIELDS[key].safeParse(content.arr[0]);
    if (!checked.success) return { ok: false, error: `the field '${key}' is invalid: ${checked.error.issues[0]?.message ?? 'bad value'}` };
  }
  for (const [client, ranges] of decoded.ds.clients) {
    const top = reach.get(client) ?? Y.getState(doc.store, client);
    for (const r of ranges) if (r.clock + r.len > top) return { ok: false, error: 'the whiteboard update deletes edits the server does not have; reload the board' };
  }
  if (newElements > 0 && root.size + newElements > MAX_WB_ELEMENTS) return { ok: false, error: `the whiteboard holds at most ${MAX_WB_ELEMENTS} elements; delete some first` };
  return { ok: true, clients: [...clients], newElements };
}
