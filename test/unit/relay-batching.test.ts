import { firstEventPerOrder } from '../../workers/outbox-relay';

interface Row { sequence: string; aggregate_id: string }

const row = (sequence: number, aggregate_id: string): Row => ({ sequence: String(sequence), aggregate_id });

describe('outbox relay batching (pure logic)', () => {
  it('keeps the first row of each order in input order and defers the later ones', () => {
    const rows = [row(1, 'A'), row(2, 'B'), row(3, 'A'), row(4, 'C'), row(5, 'B'), row(6, 'A'), row(7, 'D')];
    const batch = firstEventPerOrder(rows);
    expect(batch.map((r) => r.sequence)).toEqual(['1', '2', '4', '7']);
    expect(batch.map((r) => r.aggregate_id)).toEqual(['A', 'B', 'C', 'D']);
    expect(rows.length - batch.length).toBe(3);
  });

  it('returns the same row objects, not copies, and leaves the input untouched', () => {
    const rows = [row(1, 'A'), row(2, 'A'), row(3, 'B')];
    const before = rows.slice();
    const batch = firstEventPerOrder(rows);
    expect(batch[0]).toBe(rows[0]);
    expect(batch[1]).toBe(rows[2]);
    expect(rows).toEqual(before);
  });

  it('keeps input order rather than sorting by order id', () => {
    const batch = firstEventPerOrder([row(1, 'Z'), row(2, 'A'), row(3, 'M')]);
    expect(batch.map((r) => r.aggregate_id)).toEqual(['Z', 'A', 'M']);
  });

  it('keeps every row when all orders differ', () => {
    const rows = [row(1, 'A'), row(2, 'B'), row(3, 'C')];
    expect(firstEventPerOrder(rows)).toEqual(rows);
  });

  it('keeps only the first row when all rows belong to one order', () => {
    expect(firstEventPerOrder([row(1, 'A'), row(2, 'A'), row(3, 'A')])).toEqual([row(1, 'A')]);
  });

  it('returns an empty batch for no rows', () => {
    expect(firstEventPerOrder([])).toEqual([]);
  });

  it('keeps extra row fields (generic over the row type)', () => {
    const rows = [{ aggregate_id: 'A', type: 'OrderPlaced' }, { aggregate_id: 'A', type: 'StockReserved' }];
    expect(firstEventPerOrder(rows)).toEqual([{ aggregate_id: 'A', type: 'OrderPlaced' }]);
  });
});
