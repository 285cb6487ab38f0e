import { Router } from 'express';
import { requireScope } from '../auth';
import type { ApiDeps } from '../deps';

/** Serves the analytics read model that the analytics consumer maintains. */
export function analyticsRouter({ db }: ApiDeps): Router {
  const router = Router();
  router.get('/analytics/summary', requireScope('operator'), async (_req, res) => {
    const groups = await db.analyticsOrder.groupBy({
      by: ['status', 'currency'],
      _count: { _all: true },
      _sum: { totalCents: true },
      orderBy: [{ status: 'asc' }, { currency: 'asc' }],
    });
    const byStatus = groups.map((g) => ({ status: g.status, currency: g.currency, orders: g._count._all, amountCents: g._sum.totalCents ?? 0 }));
    const revenue = byStatus.filter((g) => g.status === 'CONFIRMED').map((g) => ({ currency: g.currency, revenueCents: g.amountCents }));
    res.json({ totalOrders: byStatus.reduce((n, g) => n + g.orders, 0), byStatus, revenue });
  });
  return router;
}
