/** An order line with the unit price the API fixed from inventory's catalog. */
export interface PricedLine {
  sku: string;
  quantity: number;
  unitPriceCents: number;
}

export function totalOf(lines: PricedLine[]): number {
  return lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
}
