import { WorkflowNotFoundError } from '@temporalio/client';
import { orderStatuses, terminalStatuses, type OrderStatus } from '../order/status';
import { ORDER_WORKFLOW_TYPE, orderWorkflowId } from '../order/workflow-contract';
import { OrderStatusAttribute } from '../search-attributes';
import { DIAGNOSIS_THRESHOLDS } from './diagnosis';
import { inspectOrder } from './inspect-order';
import { isUnreadable } from './inspection';
import type { InspectionSettings, InspectionSources } from './sources';

/**
 * `npm run ops -- stuck --older-than 10m` and `GET /operator/stuck?olderThan=10m`: orders not
 * terminal past the threshold, and orders whose row disagrees with their workflow (workflow
 * closed but row not terminal, workflow still running after the row ended, or the workflow's
 * status not the row's), each with its diagnosis (the full inspection's) and links.
 */

/** One stuck order; the operator page (GET /operator) shows these as they are. */
export interface StuckOrder {
  orderId: string;
  /** The row's status, or NOT_RECORDED when the workflow runs without a row. */
  status: string;
  ageSeconds: number;
  /** Why it is listed: older than the threshold, or its row and workflow disagree. */
  why: string;
  diagnosis: string;
  inspectionUrl: string;
  temporalUiUrl: string;
}

export interface RowFacts { status: string; createdAt: Date; updatedAt: Date }
export interface WorkflowFacts { status: string; searchAttributeStatus: string | null }

const isTerminal = (status: string) => terminalStatuses.has(status as OrderStatus);
const nonTerminalStatuses = orderStatuses.filter((s) => !terminalStatuses.has(s));

/** Why an order counts as stuck, or undefined. Pure: the rules `ops stuck` lists by (unit-tested). */
export function stuckReason(row: RowFacts | null, workflow: WorkflowFacts | null | undefined, now: Date, olderThanMs: number): string | undefined {
  const cutoff = now.getTime() - olderThanMs;
  if (!row) return workflow?.status === 'RUNNING' ? 'workflow running, order never recorded' : undefined;
  if (workflow && workflow.status !== 'RUNNING' && !isTerminal(row.status)) return `workflow ${workflow.status}, row not terminal`;
  if (workflow?.status === 'RUNNING' && isTerminal(row.status) && row.updatedAt.getTime() < cutoff) return 'workflow still running after the row ended';
  if (!isTerminal(row.status) && row.createdAt.getTime() < cutoff) return 'not terminal past the threshold';
  const settled = row.updatedAt.getTime() < now.getTime() - DIAGNOSIS_THRESHOLDS.statusSettleSeconds * 1000;
  if (workflow?.status === 'RUNNING' && workflow.searchAttributeStatus && workflow.searchAttributeStatus !== row.status && settled) {
    return `workflow says ${workflow.searchAttributeStatus}, row says ${row.status}`;
  }
  return undefined;
}

export function inspectionPath(orderId: string): string {
  return `/operator/orders/${orderId}/inspection`;
}

/** The order's workflow in the Temporal Web UI (its first TEMPORAL_UI_ORIGIN). */
export function temporalUiUrl(settings: Pick<InspectionSettings, 'TEMPORAL_UI_ORIGIN' | 'TEMPORAL_NAMESPACE'>, orderId: string): string {
  const origin = settings.TEMPORAL_UI_ORIGIN[0] ?? 'http://127.0.0.1:8233';
  return `${origin}/namespaces/${encodeURIComponent(settings.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(orderWorkflowId(orderId))}`;
}

/** `order-`: what orderWorkflowId puts before the order id. */
const WORKFLOW_ID_PREFIX = orderWorkflowId('');

/** Rows and running workflows looked at, at most, per kind. */
const CANDIDATES = 500;
/** Inspections run at once (each reads every source). */
const CONCURRENCY = 4;

/** The workflow's status; null: none; `unreadable`: Temporal could not be read, and why. */
async function describe(sources: InspectionSources, orderId: string): Promise<WorkflowFacts | null | { unreadable: string }> {
  try {
    const d = await sources.temporal.withDeadline(Date.now() + sources.settings.TEMPORAL_CALL_TIMEOUT,
      () => sources.temporal.workflow.getHandle(orderWorkflowId(orderId)).describe());
    return { status: d.status.name, searchAttributeStatus: d.typedSearchAttributes.get(OrderStatusAttribute) ?? null };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    return { unreadable: `Temporal: ${(err as Error).message}` };
  }
}

export async function findStuckOrders(sources: InspectionSources, opts: { olderThanMs: number; limit?: number; now?: Date }): Promise<StuckOrder[]> {
  const now = opts.now ?? new Date();
  const limit = opts.limit ?? 50;
  const { db, temporal, settings } = sources;
  sources.peers(); // a peer token not set fails the listing at once, not after the reads below
  const openRows = await db.order.findMany({
    where: { status: { in: nonTerminalStatuses } }, orderBy: { createdAt: 'asc' }, take: CANDIDATES, select: { id: true, status: true, createdAt: true, updatedAt: true },
  });
  // Not before 1970: any threshold is a valid one, and Temporal's query takes no earlier date.
  const startedBefore = new Date(Math.max(0, now.getTime() - opts.olderThanMs)).toISOString();
  const runningIds: string[] = [];
  const startedAt = new Map<string, Date>();
  // Set once a call to Temporal fails: it is then not asked again, neither per order here nor in the
  // inspections below (each call would wait TEMPORAL_CALL_TIMEOUT); the rows alone judge, each diagnosis says why.
  let temporalUnreadable: string | undefined;
  try {
    const query = `WorkflowType="${ORDER_WORKFLOW_TYPE}" AND ExecutionStatus="Running" AND StartTime < "${startedBefore}"`;
    for await (const wf of temporal.workflow.list({ query })) {
      if (!wf.workflowId.startsWith(WORKFLOW_ID_PREFIX)) continue;
      const orderId = wf.workflowId.slice(WORKFLOW_ID_PREFIX.length);
      runningIds.push(orderId);
      startedAt.set(orderId, wf.startTime);
      if (runningIds.length >= CANDIDATES) break;
    }
  } catch (err) {
    temporalUnreadable = `Temporal: ${(err as Error).message}`;
  }
  const open = new Set(openRows.map((r) => r.id));
  const otherRows = await db.order.findMany({
    where: { id: { in: runningIds.filter((id) => !open.has(id)) } }, select: { id: true, status: true, createdAt: true, updatedAt: true },
  });
  const rows = new Map([...openRows, ...otherRows].map((r) => [r.id, r]));
  const flagged: { orderId: string; status: string; since: Date; why: string }[] = [];
  for (const orderId of new Set([...open, ...runningIds])) {
    if (flagged.length >= limit) break;
    const row = rows.get(orderId) ?? null;
    let workflow: WorkflowFacts | null | undefined;
    if (temporalUnreadable === undefined) {
      const described = await describe(sources, orderId);
      if (described && 'unreadable' in described) temporalUnreadable = described.unreadable;
      else workflow = described;
    }
    const why = stuckReason(row, workflow, now, opts.olderThanMs);
    if (why) flagged.push({ orderId, status: row?.status ?? 'NOT_RECORDED', since: row?.createdAt ?? startedAt.get(orderId) ?? now, why });
  }
  const entries: StuckOrder[] = [];
  for (let i = 0; i < flagged.length; i += CONCURRENCY) {
    entries.push(...await Promise.all(flagged.slice(i, i + CONCURRENCY).map(async (f) => {
      const inspection = await inspectOrder(sources, f.orderId, now, { temporalUnreadable });
      if (isUnreadable(inspection.workflow)) temporalUnreadable ??= inspection.workflow.unreadable;
      return {
        orderId: f.orderId, status: f.status, ageSeconds: Math.round((now.getTime() - f.since.getTime()) / 1000), why: f.why,
        diagnosis: inspection.diagnosis.text, inspectionUrl: inspectionPath(f.orderId), temporalUiUrl: temporalUiUrl(settings, f.orderId),
      };
    })));
  }
  return entries;
}
