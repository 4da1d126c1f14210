/** A small map with per-entry expiry, for hot lookups (node keys, API tokens) that can be invalidated. */
export class TtlCache<K, V> {
  private readonly map = new Map<K, { v: V; exp: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly max = 500_000,
  ) {}
  get(k: K): V | undefined {
    const e = this.map.get(k);
    if (!e) return undefined;
    if (e.exp <= this.now()) {
      this.map.delete(k);
      return undefined;
    }
    return e.v;
  }
  set(k: K, v: V): void {
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as K);
    this.map.set(k, { v, exp: this.now() + this.ttlMs });
  }
  delete(k: K): void {
    this.map.delete(k);
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}
