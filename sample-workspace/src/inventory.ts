/** A product the shop stocks. */
export interface Product {
  sku: string;
  name: string;
  priceCents: number;
  quantity: number;
  tags: string[];
}

/** An in-memory inventory keyed by SKU. */
export class Inventory {
  private readonly items = new Map<string, Product>();

  add(product: Product): void {
    if (this.items.has(product.sku)) {
      throw new Error(`duplicate SKU ${product.sku}`);
    }
    this.items.set(product.sku, { ...product, tags: [...product.tags] });
  }

  get(sku: string): Product | undefined {
    return this.items.get(sku);
  }

  /** Removes `count` units; returns false when there are not enough in stock. */
  take(sku: string, count: number): boolean {
    const item = this.items.get(sku);
    if (!item || item.quantity < count) return false;
    item.quantity -= count;
    return true;
  }

  withTag(tag: string): Product[] {
    return [...this.items.values()].filter((p) => p.tags.includes(tag));
  }

  totalValueCents(): number {
    let total = 0;
    for (const p of this.items.values()) total += p.priceCents * p.quantity;
    return total;
  }

  lowStock(threshold = 5): Product[] {
    return [...this.items.values()]
      .filter((p) => p.quantity <= threshold)
      .sort((a, b) => a.quantity - b.quantity);
  }
}
