import { loadConfig } from '../../common/config';
import { inspectOrder } from '../../common/inspection/inspect-order';
import { isUnreadable, type OrderInspection, type Readout } from '../../common/inspection/inspection';
import { openInspectionSources, type InspectionSources } from '../../common/inspection/sources';
import { temporalUiUrl } from '../../common/inspection/stuck';
import { orderIdParam } from '../../api/schemas';
import { UsageError, type OpsCommand } from './command';

/**
 * `ops inspect <orderId> [--json]`: one order seen from everywhere (common/inspection/), ending
 * with its diagnosis. Reads Postgres (DATABASE_URL), Temporal (TEMPORAL_ADDRESS), NATS as the
 * read-only `inspector` user, and the peers with INVENTORY_TOKEN / PAYMENT_TOKEN (the tools caller).
 */

/** Runs `work` with the inspection sources of this process's configuration, closing them after. */
export async function withInspectionSources<T>(work: (sources: InspectionSources) => Promise<T>): Promise<T> {
  const { sources, close } = await openInspectionSources(loadConfig());
  try {
    return await work(sources);
  } finally {
    await close();
  }
}

const part = <T>(value: Readout<T>, show: (v: T) => string) => (isUnreadable(value) ? `(not read: ${value.unreadable})` : show(value));

/** The inspection for a person: one section per source, the diagnosis last. */
export function renderInspection(i: OrderInspection, uiUrl: string): string {
  const lines: string[] = [`order ${i.orderId}   (inspected ${i.inspectedAt})`];
  const o = i.order;
  lines.push(o ? `row:        ${o.status}${o.cancelReasonCode ? ` (${o.cancelReasonCode})` : ''}, ${(o.totalCents / 100).toFixed(2)} ${o.currency}, client ${o.clientId}, `
    + `created ${o.createdAt}, updated ${o.updatedAt}, correlation ${o.correlationId}${o.pendingUndos.length ? `, pending undos ${o.pendingUndos.join(', ')}` : ''}` : 'row:        none');
  lines.push(`changes:    ${i.transitions.map((t) => `${t.event} ${t.at.slice(11, 23)}`).join(' → ') || 'none'}`);
  lines.push(`workflow:   ${part(i.workflow, (wf) => {
    if (!wf) return 'none in Temporal';
    const out = [`${wf.status} (${wf.workflowId}, started ${wf.startedAt}${wf.closedAt ? `, closed ${wf.closedAt}` : ''}; OrderStatus ${wf.searchAttributeStatus ?? '-'})`];
    if (wf.pendingWorkflowTask) out.push(`  workflow task ${wf.pendingWorkflowTask.state} since ${wf.pendingWorkflowTask.scheduledAt}, attempt ${wf.pendingWorkflowTask.attempt}`);
    for (const a of wf.pendingActivities) {
      out.push(`  activity ${a.activityType} ${a.state}, attempt ${a.attempt}${a.maximumAttempts ? `/${a.maximumAttempts}` : ''}`
        + `${a.lastFailure ? `, last failure ${a.lastFailure.type ?? ''}: ${a.lastFailure.message}` : ''}${a.nextAttemptAt ? `, next attempt ${a.nextAttemptAt}` : ''}`);
    }
    for (const t of wf.timers) out.push(`  timer ${t.timerId} fires ${t.firesAt}`);
    if (wf.termination) out.push(`  terminated: ${wf.termination.reason} (by ${wf.termination.identity})`);
    if (wf.failure) out.push(`  failed: ${wf.failure.type ?? ''}: ${wf.failure.message}`);
    out.push(`  live state: ${part(wf.liveState, (s) => `${s.status}, step ${s.currentStep ?? '-'}, done ${s.completedSteps.join(', ') || '-'}, `
      + `undos ${s.pendingUndos?.join(', ') || '-'}${s.paymentConfirmationDeadline ? `, confirmation deadline ${s.paymentConfirmationDeadline}` : ''}`)}`);
    out.push(`  web UI: ${uiUrl}`);
    return out.join('\n');
  })}`);
  lines.push('outbox:');
  for (const e of i.outbox) lines.push(`  #${e.sequence} ${e.type.padEnd(28)} ${e.publishedAt ? `published after ${e.lagSeconds} s` : `NOT published (${e.lagSeconds} s)`}`);
  lines.push(`stream:     ${part(i.stream, (s) => [`${s.stream}: ${s.messages.length} message(s)${s.notFound.length ? `, not found: ${s.notFound.join(', ')}` : ''}`,
    ...s.messages.map((m) => `  seq ${m.streamSeq} ${m.type.padEnd(28)} acked by ${Object.entries(m.acknowledgedBy).map(([c, ok]) => `${c}:${ok ? 'yes' : 'no'}`).join(' ') || '-'}`)].join('\n'))}`);
  lines.push('inboxes:');
  for (const b of i.inboxes) lines.push(`  ${b.consumer.padEnd(10)} ${b.type.padEnd(28)} ${b.handled ? `handled ${b.handledAt}` : 'NOT handled'}`);
  lines.push(`dead letters: ${part(i.deadLetters, (ls) => (ls.length === 0 ? 'none' : ls.map((l) => `\n  #${l.seq} ${l.consumer} ${l.eventType} after ${l.deliveries} deliveries: ${l.reason}`).join('')))}`);
  lines.push(`emails:     ${i.emails.map((m) => `${m.status} "${m.subject}" ${m.sentAt} (${m.attempts} attempt(s))`).join('; ') || 'none'}`);
  lines.push(`payment:    ${part(i.payment, (p) => (p ? `${p.status} ${(p.amountCents / 100).toFixed(2)} ${p.currency} (${p.paymentId}); ${p.operations.map((op) => `${op.kind}:${op.outcome}`).join(', ')}` : 'none'))}`);
  lines.push(`inventory:  ${part(i.inventory, (r) => (r ? `${r.status} ${r.lines.map((l) => `${l.quantity}×${l.sku}`).join(', ')}` : 'no reservation'))}`);
  lines.push('', `diagnosis:  ${i.diagnosis.text}`);
  return lines.join('\n');
}

export const inspectCommands: OpsCommand[] = [{
  name: 'inspect', args: '<orderId> [--json]', summary: 'one order everywhere (row, workflow, outbox, stream, inboxes, DLQ, email, peers) and why it is where it is',
  options: { json: { type: 'boolean' } },
  run: async ([orderId, ...extra], values) => {
    if (!orderId || extra.length > 0 || !orderIdParam.safeParse(orderId).success) throw new UsageError('give one order id (a UUID)');
    await withInspectionSources(async (sources) => {
      const inspection = await inspectOrder(sources, orderId);
      console.log(values.json ? JSON.stringify(inspection, null, 2) : renderInspection(inspection, temporalUiUrl(sources.settings, orderId)));
    });
  },
}];
