import { startServiceServer, type RunningService, type ServiceOptions } from '../shared/service-server';
import { createInventoryApp } from './app';
import { ensureSchema } from './schema';

export type InventoryServiceOptions = ServiceOptions;
export type RunningInventoryService = RunningService;

export function startInventoryService(options: InventoryServiceOptions): Promise<RunningInventoryService> {
  return startServiceServer({
    ...options,
    serviceName: 'inventory',
    ensureSchema,
    build: (pool) => ({ app: createInventoryApp({ pool, logger: options.logger }) }),
  });
}
