import { type Client, ClientState, Protocol, SchemaSerializer } from "@colyseus/core";
import type { Schema, StateView } from "@colyseus/schema";
import { type ChangeQueue, type ColyseusInternals, type Tree, colyseusInternals } from "./colyseusInternals";

/**
 * A SchemaSerializer whose per-client patch costs what that client sees, not what changed
 * in the whole room.
 *
 * Stock Colyseus encodes each client's StateView by walking the room's entire change queue
 * and testing every changed entity for visibility: clients x changes per patch. Here each
 * changed filtered entity whose bytes do not depend on the viewer (a Schema without @view
 * fields, or a map of primitives) is encoded once, and its bytes are appended to the frames
 * of exactly the views whose visibility bitmap holds it. Everything else (view adds and
 * removes, changes to collections of filtered children, @view-tagged fields) still goes
 * through the stock per-view encoder, over a queue holding only those few trees.
 *
 * The bytes are the ones the stock encoder would produce for the same changes; the view
 * part of a frame puts the viewer-independent segments last, after the view's own adds.
 * Every touch of the libraries' internals goes through `ColyseusInternals` (the seam).
 */
export class FanOutSerializer<T extends Schema> extends SchemaSerializer<T> {
  /** Frame bytes handed to clients so far (for metrics). */
  sentBytes = 0;
  private scratch = new Uint8Array(64 * 1024);
  /** Where this patch's segments end in `scratch`. */
  private scratchEnd = 0;
  /** Segment start offsets in `scratch`, and the trees they belong to, for this patch. */
  private readonly segTree: Tree[] = [];
  private readonly segStart: number[] = [];
  /** Per view id: the segment indexes it sees this patch. */
  private readonly segsByView: number[][] = [];
  /** Per view id: the last patch in which a client held that view. */
  private readonly knownInPatch: number[] = [];
  private segIndex?: Map<Tree, number>;
  private patchNo = 0;
  private readonly nodePool: unknown[] = [];
  /** Per view id: the patch its frame was built in, and the frame's slot. */
  private readonly stampOfView: number[] = [];
  private readonly slotOfView: number[] = [];

  constructor(private readonly internals: ColyseusInternals = colyseusInternals) {
    super();
  }

  /**
   * Takes over a stock serializer that already holds the room's state. (A state can be bound
   * to one encoder only: resetting a second serializer with it breaks the first binding, and
   * assigning `room.state` always creates a stock serializer.)
   */
  static adopt<S extends Schema>(stock: SchemaSerializer<S>, internals: ColyseusInternals = colyseusInternals): FanOutSerializer<S> {
    return internals.adopt(new FanOutSerializer<S>(internals), stock);
  }

  override applyPatches(clients: Client[], state?: unknown, timing?: Parameters<SchemaSerializer<T>["applyPatches"]>[2]): boolean {
    const x = this.internals;
    const self = this as unknown as SchemaSerializer<Schema>;
    if (timing || !this.hasFilters || clients.length === 0 || !x.hasChanges(self)) {
      return super.applyPatches(clients, state, timing);
    }
    this.needFullEncode = true;
    const patch = ++this.patchNo;
    const it = { offset: 1 };
    // A copy: the encoder's buffer is overwritten by the next patch while a socket may
    // still hold the frame.
    const shared = x.encodeShared(self, Protocol.ROOM_STATE_PATCH, it).slice();
    const sharedOffset = it.offset;

    const { fanOut, perView } = x.splitChanges(self, this.nodePool);
    this.encodeSegments(self, fanOut);
    const end = this.segStart.length ? this.scratchEnd : 0;
    this.collectWatchers(clients, patch);

    // One frame per distinct view: its head (shared bytes, or the stock view encode when the
    // view has adds/removes or collections changed) and its segments. All frames of a patch
    // share one fresh buffer (one allocation; sockets may keep a frame after we return).
    const heads: Uint8Array[] = [];
    const segLists: (number[] | undefined)[] = [];
    const sizes: number[] = [];
    const slotOfClient: number[] = [];
    let total = 0;
    for (const client of clients) {
      if (client.state !== ClientState.JOINED) {
        slotOfClient.push(-1);
        continue;
      }
      const view = client.view as StateView | undefined;
      const id = x.viewId(view);
      if (id >= 0 && this.stampOfView[id] === patch) {
        slotOfClient.push(this.slotOfView[id]);
        continue;
      }
      let head: Uint8Array = shared;
      if (view && (x.viewHasChanges(view) || !x.isEmpty(perView))) {
        it.offset = sharedOffset;
        head = x.encodeView(self, perView, view, sharedOffset, it);
      }
      const segs = id >= 0 ? this.segsByView[id] : undefined;
      const size = head.length + this.segmentsSize(segs, end);
      const slot = heads.length;
      heads.push(head);
      segLists.push(segs);
      sizes.push(size);
      total += size;
      if (id >= 0) {
        this.stampOfView[id] = patch;
        this.slotOfView[id] = slot;
      }
      slotOfClient.push(slot);
    }
    const out = new Uint8Array(total);
    const frames: Uint8Array[] = [];
    let offset = 0;
    for (let k = 0; k < heads.length; k++) {
      frames.push(out.subarray(offset, offset + sizes[k]));
      out.set(heads[k], offset);
      this.copySegments(segLists[k], end, out, offset + heads[k].length);
      offset += sizes[k];
    }
    for (let c = 0; c < clients.length; c++) {
      if (slotOfClient[c] < 0) continue;
      const frame = frames[slotOfClient[c]];
      this.sentBytes += frame.length;
      clients[c].raw(frame);
    }
    for (const list of this.segsByView) if (list) list.length = 0;
    x.discardChanges(self);
    return true;
  }

  /**
   * Diagnostics (benchmarks): bytes of the last patch's segment for `ref`, or 0 when it had
   * none. Not for the hot path.
   */
  lastSegmentBytes(ref: object): number {
    const tree = this.internals.treeOf(ref);
    this.segIndex ??= new Map(this.segTree.map((t, i) => [t, i]));
    const i = tree === undefined ? undefined : this.segIndex.get(tree);
    if (i === undefined) return 0;
    return (i + 1 < this.segStart.length ? this.segStart[i + 1] : this.scratchEnd) - this.segStart[i];
  }

  /** Encodes every fan-out tree once, into `scratch`, remembering where each one starts. */
  private encodeSegments(self: SchemaSerializer<Schema>, queue: ChangeQueue): void {
    const trees = this.segTree;
    const starts = this.segStart;
    trees.length = 0;
    starts.length = 0;
    this.segIndex = undefined;
    if (this.internals.isEmpty(queue)) return;
    const it = { offset: 0 };
    const out = this.internals.encodeEach(self, queue, this.scratch, it, (tree, offset) => {
      // The encoder re-runs the whole pass after growing its buffer: a step back restarts the notes.
      if (starts.length > 0 && offset < starts[starts.length - 1]) {
        trees.length = 0;
        starts.length = 0;
      }
      trees.push(tree);
      starts.push(offset);
    });
    if (out.buffer !== this.scratch.buffer) this.scratch = new Uint8Array(out.buffer as ArrayBuffer);
    this.scratchEnd = it.offset;
  }

  /** For each segment, the views whose visibility bitmap holds its tree (or its parent's). */
  private collectWatchers(clients: Client[], patch: number): void {
    const x = this.internals;
    const known = this.knownInPatch;
    for (const c of clients) {
      const id = x.viewId(c.view as StateView | undefined);
      if (id >= 0) known[id] = patch;
    }
    const byView = this.segsByView;
    const trees = this.segTree;
    for (let i = 0; i < trees.length; i++) {
      const tree = trees[i];
      const own = x.viewBits(tree);
      if (own !== undefined) {
        for (let w = 0; w < own.length; w++) {
          let bits = own[w];
          if (bits === 0) continue;
          while (bits !== 0) {
            const low = bits & -bits;
            const id = w * 32 + (31 - Math.clz32(low));
            bits ^= low;
            if (known[id] === patch) (byView[id] ??= []).push(i);
          }
        }
      }
      // A child collection without its own bits is visible where its parent is (the stock
      // encoder's isChangeTreeVisible fallback); only the bits the child lacks are added.
      const inherited = x.inheritedViewBits(tree);
      if (inherited !== undefined) {
        for (let w = 0; w < inherited.length; w++) {
          let bits = inherited[w] & ~(own?.[w] ?? 0);
          while (bits !== 0) {
            const low = bits & -bits;
            const id = w * 32 + (31 - Math.clz32(low));
            bits ^= low;
            if (known[id] === patch) (byView[id] ??= []).push(i);
          }
        }
      }
    }
  }

  private segmentsSize(segs: number[] | undefined, end: number): number {
    if (!segs) return 0;
    const starts = this.segStart;
    let size = 0;
    for (const s of segs) size += (s + 1 < starts.length ? starts[s + 1] : end) - starts[s];
    return size;
  }

  private copySegments(segs: number[] | undefined, end: number, out: Uint8Array, at: number): void {
    if (!segs) return;
    const starts = this.segStart;
    const scratch = this.scratch;
    for (const s of segs) {
      const to = s + 1 < starts.length ? starts[s + 1] : end;
      for (let i = starts[s]; i < to; i++) out[at++] = scratch[i];
    }
  }
}
