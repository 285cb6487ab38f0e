import { startServiceServer, type RunningService, type ServiceOptions } from '../shared/service-server';
import { createInventoryApp } from './app';
import { seedSampleCatalog } from './sample-catalog';
import { ensureSchema } from './schema';

export interface InventoryServiceOptions extends ServiceOptions {
  /** Add the sample catalog's missing products at start (dev and compose). */
  seedSampleCatalog?: boolean;
}
export type RunningInventoryService = RunningService;

export function startInventoryService(options: InventoryServiceOptions): Promise<RunningInventoryService> {
  return startServiceServer({
    ...options,
    serviceName: 'inventory',
    ensureSchema: async (pool) => {
      await ensureSchema(pool);
      if (!options.seedSampleCatalog) return;
      const added = await seedSampleCatalog(pool);
      if (added.length) options.logger.info({ skus: added }, 'sample catalog seeded');
    },
    build: (pool) => ({ app: createInventoryApp({ pool, logger: options.logger, callers: options.callers, testMode: options.testMode }) }),
  });
}
