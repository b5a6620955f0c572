import type { busway } from '@busway/proto';
import { fold, merge, newAggregate, windowStartMs, type Aggregate } from './aggregate.js';

/** One point's aggregate in one window, with what the rollup message needs. */
export interface WindowEntry {
  unsSubject: string;
  path: busway.v1.IUnsPath;
  metric: string;
  unit: string;
  startMs: number;
  agg: Aggregate;
}

interface Window {
  startMs: number;
  points: Map<string, WindowEntry>;
  /** Smallest input sequence that contributed: replaying from it rebuilds the window. */
  minSeq: number;
}

export type AddResult = 'added' | 'repeat' | 'late';

/** The point a sample or aggregate belongs to. */
export type PointOf = Omit<WindowEntry, 'startMs' | 'agg'>;

/**
 * The open windows of one period, by start time, each with its points. Windows close in start order once the
 * watermark reaches their end; a sample for a window that closed already is late.
 */
export class WindowBook {
  private readonly windows = new Map<number, Window>();
  /** Every window ending at or before this is closed. */
  closedThroughMs: number;

  constructor(
    readonly periodMs: number,
    closedThroughMs = -Infinity,
  ) {
    this.closedThroughMs = closedThroughMs;
  }

  get openWindows(): number {
    return this.windows.size;
  }

  /** Adds a sample (value at timeMs) of one point; `seq` is the input message it came in. */
  add(entry: PointOf, value: number, timeMs: number, seq = 0): AddResult {
    const slot = this.slot(entry, timeMs, seq);
    if (slot === 'late') return 'late';
    if (!slot.cur) {
      slot.window.points.set(entry.unsSubject, this.entry(entry, slot.window, newAggregate(value, timeMs)));
      return 'added';
    }
    if (!fold(slot.cur.agg, value, timeMs)) return 'repeat';
    if (entry.unit) slot.cur.unit = entry.unit;
    return 'added';
  }

  /**
   * Adds the aggregate of a shorter window (1 h from 1 min rollups). One that does not start after the last
   * sample already merged is a repeat (the same minute read twice) and is skipped.
   */
  addAggregate(entry: PointOf, agg: Aggregate, seq = 0): AddResult {
    const slot = this.slot(entry, agg.firstMs, seq);
    if (slot === 'late') return 'late';
    if (!slot.cur) {
      slot.window.points.set(entry.unsSubject, this.entry(entry, slot.window, { ...agg }));
      return 'added';
    }
    if (agg.firstMs <= slot.cur.agg.lastMs) return 'repeat';
    slot.cur.agg = merge(slot.cur.agg, agg);
    if (entry.unit) slot.cur.unit = entry.unit;
    return 'added';
  }

  private slot(
    entry: PointOf,
    timeMs: number,
    seq: number,
  ): { window: Window; cur: WindowEntry | undefined } | 'late' {
    const start = windowStartMs(timeMs, this.periodMs);
    if (start + this.periodMs <= this.closedThroughMs) return 'late';
    let window = this.windows.get(start);
    if (!window) {
      window = { startMs: start, points: new Map(), minSeq: seq };
      this.windows.set(start, window);
    } else if (seq < window.minSeq) window.minSeq = seq;
    return { window, cur: window.points.get(entry.unsSubject) };
  }

  private entry(p: PointOf, w: Window, agg: Aggregate): WindowEntry {
    return {
      unsSubject: p.unsSubject,
      path: p.path,
      metric: p.metric,
      unit: p.unit,
      startMs: w.startMs,
      agg,
    };
  }

  /** Removes and returns every window ending at or before `watermarkMs`, oldest first. */
  closeThrough(watermarkMs: number): WindowEntry[][] {
    const through = windowStartMs(watermarkMs, this.periodMs);
    if (through > this.closedThroughMs) this.closedThroughMs = through;
    const closing = [...this.windows.values()]
      .filter((w) => w.startMs + this.periodMs <= this.closedThroughMs)
      .sort((a, b) => a.startMs - b.startMs);
    for (const w of closing) this.windows.delete(w.startMs);
    return closing.map((w) => [...w.points.values()]);
  }

  /** Whether closing through `watermarkMs` would close anything. */
  wouldClose(watermarkMs: number): boolean {
    const through = windowStartMs(watermarkMs, this.periodMs);
    for (const start of this.windows.keys()) if (start + this.periodMs <= through) return true;
    return false;
  }

  /** The smallest input sequence of any open window, or undefined when none is open. */
  minOpenSeq(): number | undefined {
    let min: number | undefined;
    for (const w of this.windows.values()) if (min === undefined || w.minSeq < min) min = w.minSeq;
    return min;
  }
}
