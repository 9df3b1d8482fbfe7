// The room screen's derived state: countdown thresholds, which console controls work and why
// not, durations as people type them, and the plain-English error texts.
import { describe, expect, it } from 'vitest';
import { errorMessage } from './messages';
import type { RoomEvent, TimerState } from './protocol';
import { run, testRoom } from './room-state.fixtures';
import {
  FINAL_MS,
  MINUTE_MS,
  addableToRound,
  consoleControls,
  countdownLevel,
  heldSpeaker,
  heldText,
  pauseText,
  roundEventText,
  summaryRows,
  parseDuration,
  stillToSpeak,
  thresholdText,
  timeLeftFraction,
  timerControl,
  turnElapsedMs,
} from './stage';

const timer = (state: TimerState['state'], extra: Partial<TimerState> = {}): TimerState => ({
  state,
  duration_ms: 120_000,
  ends_at: state === 'running' || state === 'expired' ? 1_000_000 : null,
  remaining_ms: state === 'paused' || state === 'expired' ? 30_000 : null,
  ...extra,
});

describe('countdownLevel', () => {
  it('changes at 1 minute and at 10 s left (inclusive), only while running', () => {
    const t = timer('running');
    expect(countdownLevel(t, MINUTE_MS + 1)).toBe('running');
    expect(countdownLevel(t, MINUTE_MS)).toBe('minute');
    expect(countdownLevel(t, FINAL_MS + 1)).toBe('minute');
    expect(countdownLevel(t, FINAL_MS)).toBe('final');
    expect(countdownLevel(t, 0)).toBe('final');
    expect(countdownLevel(timer('paused'), 5_000)).toBe('paused');
    expect(countdownLevel(timer('expired'), 0)).toBe('expired');
    expect(countdownLevel(timer('idle'), 0)).toBe('idle');
  });

  it('the last minute only of a timer set for longer than a minute; the last 10 s of any', () => {
    const short = timer('running', { duration_ms: 30_000 });
    expect(countdownLevel(short, 30_000)).toBe('running'); // a 30-second turn, at its first second
    expect(countdownLevel(short, FINAL_MS + 1)).toBe('running');
    expect(countdownLevel(short, FINAL_MS)).toBe('final');
    const minute = timer('running', { duration_ms: MINUTE_MS });
    expect(countdownLevel(minute, MINUTE_MS)).toBe('running');
    expect(countdownLevel(minute, FINAL_MS)).toBe('final');
    const longer = timer('running', { duration_ms: MINUTE_MS + 1 });
    expect(countdownLevel(longer, MINUTE_MS)).toBe('minute');
    expect(countdownLevel(timer('running', { duration_ms: 5_000 }), 5_000)).toBe('final');
  });

  it('thresholdText speaks when a running countdown enters its last minute or last 10 s', () => {
    expect(thresholdText('running', 'minute')).toBe('1 minute left');
    expect(thresholdText('minute', 'final')).toBe('10 seconds left');
    expect(thresholdText('running', 'final')).toBe('10 seconds left');
    expect(thresholdText('idle', 'minute')).toBeNull(); // a 45-second turn starting: nothing crossed
    expect(thresholdText('idle', 'final')).toBeNull();
    expect(thresholdText('paused', 'minute')).toBeNull(); // resumed inside the last minute
    expect(thresholdText('final', 'expired')).toBeNull();
  });

  it('timeLeftFraction is remaining / duration, clamped, and 0 when idle or expired', () => {
    expect(timeLeftFraction(timer('running'), 60_000)).toBe(0.5);
    expect(timeLeftFraction(timer('running'), 500_000)).toBe(1);
    expect(timeLeftFraction(timer('paused'), 30_000)).toBe(0.25);
    expect(timeLeftFraction(timer('expired'), 0)).toBe(0);
    expect(timeLeftFraction(timer('idle', { duration_ms: 0 }), 0)).toBe(0);
  });
});

describe('turnElapsedMs', () => {
  it("an untimed turn's time so far, less its pauses; frozen while paused", () => {
    const r = run(testRoom(), { kind: 'turn_started', member_id: 'm2', mode: 'floor' }); // at 11 s
    expect(r.timers.turn.state).toBe('idle');
    expect(turnElapsedMs(r, 11_000)).toBe(0);
    expect(turnElapsedMs(r, 15_500)).toBe(4_500);
    expect(turnElapsedMs({ ...r, turn: { ...r.turn!, paused_ms: 2_000 } }, 15_500)).toBe(2_500);
    expect(turnElapsedMs({ ...r, paused: { reason: 'facilitator', since: 13_000 } }, 60_000)).toBe(2_000);
    expect(turnElapsedMs(testRoom(), 60_000)).toBe(0);
    expect(consoleControls(r, 'facilitator').turn.extend).toEqual({ enabled: false, reason: 'This turn has no time limit.' });
  });
});

describe('parseDuration', () => {
  it('reads minutes, m:ss, seconds and hours', () => {
    expect(parseDuration('3')).toBe(180);
    expect(parseDuration(' 3 min ')).toBe(180);
    expect(parseDuration('10 minutes')).toBe(600);
    expect(parseDuration('1:30')).toBe(90);
    expect(parseDuration('0:03')).toBe(3);
    expect(parseDuration('45 s')).toBe(45);
    expect(parseDuration('45sec')).toBe(45);
    expect(parseDuration('2 h')).toBe(7200);
  });

  it('refuses nothing, zero, over 4 hours and other text', () => {
    for (const bad of ['', '0', '0:00', '1:75', '241', '5 h', 'soon', '-1', '1.5', '14401 s']) {
      expect(parseDuration(bad), bad).toBeNull();
    }
    expect(parseDuration('240')).toBe(14_400);
  });
});

describe('timerControl', () => {
  it('follows the server: pause when running, resume when paused, extend/reset once started', () => {
    expect(timerControl('phase', timer('running'), 'pause')).toEqual({ enabled: true, reason: null });
    expect(timerControl('phase', timer('paused'), 'pause')).toEqual({ enabled: false, reason: 'The phase timer is paused.' });
    expect(timerControl('turn', timer('idle'), 'pause').reason).toBe('The turn timer has not started.');
    expect(timerControl('turn', timer('expired'), 'pause').reason).toBe('The turn timer is not running.');
    expect(timerControl('phase', timer('running'), 'resume').reason).toBe('The phase timer is not paused.');
    expect(timerControl('phase', timer('paused'), 'resume').enabled).toBe(true);
    expect(timerControl('phase', timer('expired'), 'extend').enabled).toBe(true);
    expect(timerControl('phase', timer('idle'), 'extend').reason).toBe('The phase timer has not started.');
    expect(timerControl('phase', timer('idle'), 'reset').enabled).toBe(false);
  });
});

describe('consoleControls', () => {
  const round: RoomEvent = { kind: 'round_started', round: { id: 1, order: ['m1', 'm2', 'm3'], turn_seconds: 60, auto_advance: true } };

  it('before a round: start works, skip/end do not; giving the floor needs a raised hand', () => {
    const c = consoleControls(testRoom(), 'facilitator');
    expect(c.roundStart.enabled).toBe(true);
    expect(c.roundSkip).toEqual({ enabled: false, reason: 'No go-round is running.' });
    expect(c.roundEnd.enabled).toBe(false);
    expect(c.floorGiveNext.reason).toBe('No hands are raised.');
    expect(c.turn.extend.reason).toBe('Nobody is speaking.');
    const hand = run(testRoom(), { kind: 'hand_raised', member_id: 'm2' });
    expect(consoleControls(hand, 'co_facilitator').floorGiveNext.enabled).toBe(true);
  });

  it('during a round: skip and end work, start and the floor do not; turn timer by its state', () => {
    const r = run(
      testRoom(),
      round,
      { kind: 'turn_started', member_id: 'm1', mode: 'round' },
      { kind: 'timer_set', timer: 'turn', action: 'start', state: timer('running') },
      { kind: 'hand_raised', member_id: 'm2' },
    );
    const c = consoleControls(r, 'facilitator');
    expect(c.roundStart.reason).toBe('A go-round is running.');
    expect(c.roundSkip.enabled).toBe(true);
    expect(c.roundEnd.enabled).toBe(true);
    expect(c.floorGiveNext.reason).toBe('Not during a go-round.');
    expect(c.floorRelease.reason).toBe('Nobody has the floor.');
    expect(c.turn.pause.enabled).toBe(true);
    expect(c.turn.resume.enabled).toBe(false);
    expect(c.turn.extend.enabled).toBe(true);
    expect(stillToSpeak(r)).toBe(2);
  });

  it('1.6: while paused, turn changes and timer resumes are off with the reason; Resume is the way on', () => {
    const r = run(
      testRoom(),
      round,
      { kind: 'turn_started', member_id: 'm1', mode: 'round' },
      { kind: 'activity_paused', reason: 'restart', since: 2500 },
      { kind: 'timer_set', timer: 'turn', action: 'pause', state: timer('paused') },
    );
    const c = consoleControls(r, 'facilitator');
    expect(c.resume.enabled).toBe(true);
    expect(c.pause.reason).toBe('Already paused.');
    expect(c.roundSkip.reason).toBe('The round is paused: resume it first.');
    expect(c.turn.resume.enabled).toBe(false);
    expect(c.roundEnd.enabled).toBe(true);
    expect(pauseText(r)).toMatch(/^Paused: the server restarted/);
    expect(consoleControls(testRoom(), 'facilitator').pause.reason).toBe('Nothing is running.');
    expect(consoleControls(testRoom(), 'facilitator').resume.enabled).toBe(false);
  });

  it('1.6: who can be added back, the held speaker, the summary rows and the event texts', () => {
    const r = run(
      testRoom(),
      { kind: 'round_started', round: { id: 1, order: ['m2'], turn_seconds: 60, auto_advance: true } },
      { kind: 'turn_started', member_id: 'm2', mode: 'round' },
      { kind: 'member_connection_lost', member_id: 'm2' },
      { kind: 'turn_held', member_id: 'm2', until: 25_000 },
    );
    expect(addableToRound(r).map((m) => m.name)).toEqual(['Grace', 'Lin']);
    expect(consoleControls(r, 'facilitator').roundAdd.enabled).toBe(true);
    const nameOf = (id: string) => r.members.find((m) => m.id === id)?.name ?? id;
    expect(heldText(r, 10_000, nameOf)).toBe('Ada lost their connection. Their turn is kept for 0:15 in case they are back.');
    expect(heldText(run(r, { kind: 'member_back', member_id: 'm2' }), 10_000, nameOf)).toBeNull();
    expect(heldSpeaker(r)).toBe('m2');
    expect(heldSpeaker(run(r, { kind: 'member_back', member_id: 'm2' }))).toBeNull();
    expect(heldSpeaker(run(r, { kind: 'activity_paused', reason: 'restart', since: 20_000 })), 'a pause ends the hold').toBeNull();
    expect(heldSpeaker(run(testRoom(), { kind: 'member_connection_lost', member_id: 'm2' })), 'away, no turn').toBeNull();
    const rows = summaryRows({ id: 1, reason: 'completed', outcomes: [{ member_id: 'm2', outcome: 'passed', ms: 0 }] }, nameOf);
    expect(rows).toEqual([{ member_id: 'm2', name: 'Ada', outcome: 'passed', text: 'passed', ms: 0 }]);
    expect(roundEventText({ kind: 'turn_held', member_id: 'm2', until: 1 }, nameOf)).toBe('Ada lost their connection; their turn is kept for a moment.');
    expect(roundEventText({ kind: 'activity_resumed' }, nameOf)).toBe('The round goes on.');
    expect(roundEventText({ kind: 'hand_raised', member_id: 'm2' }, nameOf)).toBeNull();
  });

  it('a participant gets every control off, with the reason', () => {
    const c = consoleControls(testRoom(), 'participant');
    expect(c.roundStart).toEqual({ enabled: false, reason: 'Only facilitators and co-facilitators can do this.' });
    expect(c.phase.pause.enabled).toBe(false);
  });
});

describe('error texts', () => {
  it('live-round codes read as plain English, not the server wording', () => {
    expect(errorMessage('timer_not_running', 'that timer is not running')).toBe(
      'That timer is not running, so it cannot be paused or given more time.',
    );
    expect(errorMessage('queue_empty', 'x')).toMatch(/Nobody has raised a hand/);
    expect(errorMessage('deck_empty', 'x')).toMatch(/no cards/);
  });
});
