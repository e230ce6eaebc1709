import { Inventory } from './inventory';
import { formatPrice } from './format';

const inventory = new Inventory();
inventory.add({ sku: 'KB-01', name: 'Keyboard', priceCents: 4999, quantity: 12, tags: ['input'] });
inventory.add({ sku: 'MS-02', name: 'Mouse', priceCents: 1999, quantity: 3, tags: ['input'] });
inventory.add({ sku: 'MN-27', name: 'Monitor 27"', priceCents: 22900, quantity: 4, tags: ['display'] });

for (const p of inventory.lowStock()) {
  console.log(`low stock: ${p.name} (${p.quantity} left, ${formatPrice(p.priceCents)} each)`);
}
console.log(`stock value: ${formatPrice(inventory.totalValueCents())}`);
