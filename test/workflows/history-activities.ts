import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The marker Temporal's SDK core records for a local activity's result. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** The regular activities a history scheduled, by type, in order. */
export function regularActivities(events: HistoryEvent[] | null | undefined): string[] {
  return (events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

/**
 * The local activities a history recorded, in order: their type, attempt and whether they failed
 * (read from the marker's data, which SDK core writes as plain JSON: it is not ours to encrypt).
 */
export function localActivities(events: HistoryEvent[] | null | undefined): { type: string; attempt: number; failed: boolean }[] {
  return (events ?? []).flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== LOCAL_ACTIVITY_MARKER) return [];
    const payload = marker.details?.data?.payloads?.[0];
    if (!payload?.data) throw new Error(`local activity marker (event ${String(e.eventId)}) without data`);
    const data = JSON.parse(Buffer.from(payload.data).toString('utf8')) as { activity_type: string; attempt: number };
    return [{ type: data.activity_type, attempt: data.attempt, failed: marker.failure != null }];
  });
}
