import { busway, Subjects, timeNsFromMs } from '@busway/proto';
import type { AlarmTransition } from './engine.js';

/** Alarms of one rack or area: alarm.v1.<site>.<hall>.<row>.<rack> (stream ALARMS). */
export function alarmSubject(p: busway.v1.IUnsPath | null | undefined): string {
  return Subjects.alarm(p?.site ?? '_', p?.hall ?? '_', p?.row ?? '_', p?.rack ?? '_');
}

/** Severity from the score: how sure the detectors are, not how bad the equipment is. */
function severityOf(score: number): string {
  return score >= 0.95 ? 'major' : score >= 0.75 ? 'minor' : 'warning';
}

/** One alarm transition as a fabric Event (kind ALARM); its id is stable across redeliveries. */
export function alarmEvent(a: AlarmTransition): busway.v1.IEvent {
  const s = a.score;
  const phase = a.active ? 'raised' : 'cleared';
  return {
    id: `${a.alarmId}:${phase}`,
    kind: busway.v1.EventKind.EVENT_KIND_ALARM,
    eventTimeNs: s.eventTimeNs,
    source: { protocol: 'busway', sourceId: 'anomaly', address: s.pointId ?? '' },
    alarm: {
      code: `anomaly.${a.active ? s.label : 'cleared'}`,
      severity: severityOf(a.peakScore),
      text: a.active
        ? `${s.metric} ${s.label} (score ${(s.score ?? 0).toFixed(2)}): ${s.reason}`
        : `${s.metric} back to normal (peak score ${a.peakScore.toFixed(2)})`,
      path: s.path,
      active: a.active,
      alarmId: a.alarmId,
      anomaly: s,
      raisedTimeNs: timeNsFromMs(a.raisedMs),
      peakScore: a.peakScore,
    },
  };
}
