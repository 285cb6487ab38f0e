import { OrderStatusAttribute } from '../../common/search-attributes';
import { loadConfig } from '../../common/config';
import { ORDER_WORKFLOW_TYPE, orderWorkflowId, orderWorkflowStartOptions, TASK_QUEUE_DEFAULT, type OrderWorkflow } from '../../common/order/workflow-contract';
import * as workflows from '../../workflows';

describe('order workflow contract', () => {
  it('names the workflow the bundle exports, with the signature the contract declares', () => {
    const exported: OrderWorkflow = workflows.orderWorkflow;
    expect(workflows[ORDER_WORKFLOW_TYPE]).toBe(exported);
  });

  it('is the default task queue of the configuration', () => {
    expect(loadConfig({}).TEMPORAL_TASK_QUEUE).toBe(TASK_QUEUE_DEFAULT);
  });

  it('starts the workflow under the id derived from the order id', () => {
    const options = orderWorkflowStartOptions({
      orderId: 'o-1', customerId: 'c', customerEmail: 'buyer@shop.example', currency: 'EUR',
      lines: [{ sku: 'A', quantity: 2, unitPriceCents: 150 }], totalCents: 300, paymentToken: 'tok', correlationId: 'x',
    }, 'q');
    expect(options).toMatchObject({ workflowId: orderWorkflowId('o-1'), taskQueue: 'q', staticSummary: 'Order of 2 item(s), 3.00 EUR' });
  });

  it('puts only the status in search attributes (stored in clear): never the customer id, which may be an email address', () => {
    const options = orderWorkflowStartOptions({
      orderId: 'o-2', customerId: 'jane@shop.example', currency: 'EUR', lines: [{ sku: 'A', quantity: 1, unitPriceCents: 100 }], totalCents: 100, correlationId: 'x',
    }, 'q');
    expect(options.typedSearchAttributes).toEqual([{ key: OrderStatusAttribute, value: 'PENDING' }]);
    expect(JSON.stringify([options.typedSearchAttributes, options.staticSummary, options.workflowId])).not.toContain('jane');
  });
});
