"""Summarise a CSV of orders: revenue per product and the best customers."""
import csv
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass


@dataclass
class Order:
    customer: str
    sku: str
    quantity: int
    price_cents: int

    @property
    def total_cents(self) -> int:
        return self.quantity * self.price_cents


def read_orders(path: str) -> list[Order]:
    with open(path, newline="") as f:
        return [
            Order(row["customer"], row["sku"], int(row["quantity"]), int(row["price_cents"]))
            for row in csv.DictReader(f)
        ]


def revenue_by_sku(orders: list[Order]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for order in orders:
        totals[order.sku] += order.total_cents
    return dict(totals)


def top_customers(orders: list[Order], n: int = 3) -> list[tuple[str, int]]:
    spent = Counter()
    for order in orders:
        spent[order.customer] += order.total_cents
    return spent.most_common(n)


def main() -> None:
    orders = read_orders(sys.argv[1] if len(sys.argv) > 1 else "data/orders.csv")
    for sku, cents in sorted(revenue_by_sku(orders).items()):
        print(f"{sku:8} {cents / 100:10.2f}")
    for customer, cents in top_customers(orders):
        print(f"top: {customer} {cents / 100:.2f}")


if __name__ == "__main__":
    main()
