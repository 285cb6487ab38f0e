// Entry point of the workflow bundle: every workflow the worker runs is exported here, under its
// workflow type name. Its id, queries, signals, updates and start options are in
// common/order/workflow-contract.ts.
export { orderWorkflow } from './order.workflow';
