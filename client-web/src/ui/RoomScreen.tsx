// The room, laid out so that what happens now is always in view: the stage (with its spotlight,
// in the same column) in the middle, the people column on the left and, for facilitators, the console on the right;
// questions, the climate check and the deck are tabs below the stage. Narrower than 64rem the
// people column becomes the first tab; narrower than 48rem everything is one column with the
// stage first and sticky. A refused command shows next to the controls that sent it.

import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Connection, ConnectionState } from '../connection';
import type { MemberInfo, ReleasedPrompt, Role } from '../protocol';
import { isFacilitatorRole, shownCard, type RoomView } from '../room-state';
import { AuditPanel } from './AuditPanel';
import { Console } from './Console';
import { ErrorPlaceContext } from './controls';
import { DeckPanel } from './DeckPanel';
import { GroupsBanner } from './Groups';
import { People } from './People';
import { PromptsPanel } from './PromptsPanel';
import { Spotlight, Stage, useSoundCue } from './Stage';

/** Whether the media query matches now (and re-renders when that changes). */
export function useMediaQuery(query: string): boolean {
  const get = () => (typeof matchMedia === 'function' ? matchMedia(query).matches : true);
  const [matches, setMatches] = useState(get);
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const list = matchMedia(query);
    const on = () => setMatches(list.matches);
    on();
    list.addEventListener('change', on);
    return () => list.removeEventListener('change', on);
  }, [query]);
  return matches;
}

/** The element marked `data-error-place` around the target of a user's action (null: none). */
function placeOf(target: EventTarget | null): string | null {
  const el = target instanceof Element ? target.closest('[data-error-place]') : null;
  return el?.getAttribute('data-error-place') ?? null;
}

type TabId = 'people' | 'prompts' | 'audit' | 'deck';

interface Tab {
  id: TabId;
  label: string;
  /** A short note after the label ("open", "3"), read with it. */
  badge?: string;
  content: ComponentChildren;
}

/** ARIA tabs: arrow keys, Home and End move between tabs; every panel stays mounted (drafts kept). */
function Tabs({ tabs, active, onSelect }: { tabs: Tab[]; active: TabId; onSelect: (id: TabId) => void }) {
  const listRef = useRef<HTMLDivElement>(null);
  const move = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.id === active);
    let j = i;
    if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = tabs.length - 1;
    else return;
    e.preventDefault();
    onSelect(tabs[j]!.id);
    listRef.current?.querySelector<HTMLButtonElement>(`#tab-${tabs[j]!.id}`)?.focus();
  };
  return (
    <div class="room-tabs card">
      <div class="tab-list" role="tablist" aria-label="Activities" ref={listRef} onKeyDown={move}>
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            class="tab"
            data-testid={`tab-${t.id}`}
            aria-selected={t.id === active ? 'true' : 'false'}
            aria-controls={`tabpanel-${t.id}`}
            tabIndex={t.id === active ? 0 : -1}
            onClick={() => onSelect(t.id)}
          >
            {t.label}
            {t.badge && <span class="tab-badge"> {t.badge}</span>}
          </button>
        ))}
      </div>
      {tabs.map((t) => (
        <div
          key={t.id}
          role="tabpanel"
          id={`tabpanel-${t.id}`}
          class="tab-panel"
          aria-labelledby={`tab-${t.id}`}
          hidden={t.id !== active}
          data-error-place={t.id}
        >
          {t.content}
        </div>
      ))}
    </div>
  );
}

export interface RoomScreenProps {
  connection: Connection;
  room: RoomView;
  self: MemberInfo;
  state: ConnectionState;
}

export function RoomScreen({ connection, room, self, state }: RoomScreenProps) {
  // The role as of the last event (it can change during the session).
  const role: Role = room.members.find((m) => m.id === self.id)?.role ?? self.role;
  const { commandError, pendingPrompts, votedPrompts, answeredAudits } = connection.getSnapshot();
  const lead = isFacilitatorRole(role);
  const wide = useMediaQuery('(min-width: 64rem)');
  const [sound, setSound] = useSoundCue(connection);

  // Where the last action came from, so that its refusal shows there.
  const placeRef = useRef<string | null>(null);
  useEffect(() => {
    const note = (e: Event) => {
      placeRef.current = placeOf(e.target);
    };
    const kinds = ['click', 'submit', 'change', 'keydown'];
    for (const k of kinds) document.addEventListener(k, note, true);
    return () => {
      for (const k of kinds) document.removeEventListener(k, note, true);
    };
  }, []);
  const errorPlace = useMemo(() => placeRef.current, [commandError]);
  useFocusKept();
  const errors = useMemo(
    () => ({ error: commandError, place: errorPlace, dismiss: () => connection.clearCommandError() }),
    [commandError, errorPlace, connection],
  );

  // The spotlight: the question put to someone or the card drawn, whichever came last.
  const [posedId, setPosedId] = useState<string | null>(() => lastPosed(room.prompts));
  const [spot, setSpot] = useState<'prompt' | 'card'>(() => (lastPosed(room.prompts) ? 'prompt' : 'card'));
  useEffect(
    () =>
      connection.onRoomEvent((event) => {
        if (event.kind === 'prompt_posed') {
          setPosedId(event.prompt_id);
          setSpot('prompt');
        } else if (event.kind === 'deck_card_drawn') setSpot('card');
      }),
    [connection],
  );
  const card = shownCard(room.deck);
  const posed = room.prompts.find((p) => p.id === posedId && p.posed_to !== undefined) ?? null;
  const spotPrompt = spot === 'prompt' || !card ? posed : null;
  const spotCard = spotPrompt ? null : card;

  const [tab, setTab] = useState<TabId>('prompts');
  const auditWaiting = !!room.audit?.open && role !== 'observer' && !answeredAudits.includes(room.audit.id);
  const openAudit = () => {
    setTab('audit');
    setTimeout(() => document.getElementById('tab-audit')?.focus(), 0);
  };
  const people = <People connection={connection} room={room} selfId={self.id} role={role} sound={sound} onSound={setSound} />;
  const tabs: Tab[] = [
    ...(wide ? [] : [{ id: 'people' as const, label: 'People', badge: handsBadge(room), content: people }]),
    {
      id: 'prompts',
      label: 'Questions',
      badge: lead && pendingPrompts.length > 0 ? `${pendingPrompts.length} waiting` : room.prompts.length > 0 ? String(room.prompts.length) : undefined,
      content: <PromptsPanel connection={connection} room={room} selfId={self.id} role={role} pending={pendingPrompts} voted={votedPrompts} />,
    },
    {
      id: 'audit',
      label: 'Climate check',
      badge: room.audit?.open ? 'open' : undefined,
      content: <AuditPanel connection={connection} room={room} role={role} answered={answeredAudits} />,
    },
    ...(room.deck
      ? [{ id: 'deck' as const, label: 'Challenge deck', content: <DeckPanel connection={connection} deck={room.deck} role={role} /> }]
      : []),
  ];
  const activeTab = tabs.some((t) => t.id === tab) ? tab : 'prompts';
  const facilitatorOnline = room.members.some((m) => m.role === 'facilitator' && m.presence === 'online');

  return (
    <ErrorPlaceContext.Provider value={errors}>
      <div class={`room-layout${lead ? ' with-console' : ''}`}>
        {wide && (
          <div class="people-col card" data-testid="people-column">
            {people}
          </div>
        )}
        <div class="stage-col">
          {state !== 'online' && (
            <p class="notice">
              Connection lost. Trying to reconnect; you will stay in the room.
            </p>
          )}
          {role === 'co_facilitator' && !facilitatorOnline && (
            <div class="notice">
              <p>No facilitator is online. After two minutes you can take over the facilitation.</p>
              <button type="button" class="button" data-testid="claim-facilitation" onClick={() => void connection.claimFacilitation()}>
                Take over as facilitator
              </button>
            </div>
          )}
          <GroupsBanner connection={connection} room={room} selfId={self.id} role={role} />
          <Stage
            connection={connection}
            room={room}
            selfId={self.id}
            role={role}
            auditWaiting={auditWaiting}
            onOpenAudit={openAudit}
          />
          {/* In the stage's column: on phones it stays at the top with the stage (sticky). */}
          <Spotlight room={room} selfId={self.id} prompt={spotPrompt} card={spotCard} />
          {role === 'observer' && (
            <p class="notice" data-testid="observer-note">
              You are observing: you can follow everything, but not speak or take turns.
            </p>
          )}
        </div>
        {lead && (
          <div class="console-col">
            <Console connection={connection} room={room} role={role} />
          </div>
        )}
        <div class="tabs-col">
          <Tabs tabs={tabs} active={activeTab} onSelect={setTab} />
        </div>
      </div>
    </ErrorPlaceContext.Provider>
  );
}

/**
 * When the control that had focus goes away or is disabled (Start go-round becomes Skip and End,
 * Finish my turn disappears), focus moves to the heading of the same region (made focusable),
 * else to the stage's heading, instead of falling to the page. A heading, not the next button:
 * a second Enter must not press End go-round.
 */
function useFocusKept(): void {
  const last = useRef<{ el: HTMLElement; place: string | null } | null>(null);
  useEffect(() => {
    const onIn = (e: FocusEvent) => {
      if (e.target instanceof HTMLElement) last.current = { el: e.target, place: placeOf(e.target) };
    };
    document.addEventListener('focusin', onIn);
    return () => document.removeEventListener('focusin', onIn);
  }, []);
  useEffect(() => {
    const l = last.current;
    const active = document.activeElement;
    if (!l || (active && active !== document.body && active !== l.el)) return;
    if (l.el.isConnected && !(l.el as HTMLButtonElement).disabled) return; // left on purpose
    // Gone, or disabled while it still has focus (the browser would drop it to the body later).
    last.current = null;
    const region = l.place ? document.querySelector(`[data-error-place="${l.place}"]`) : null;
    const next = region?.querySelector<HTMLElement>('h2, h3') ?? document.getElementById('round-heading');
    if (next && !next.hasAttribute('tabindex')) next.setAttribute('tabindex', '-1');
    next?.focus();
  });
}

function lastPosed(prompts: readonly ReleasedPrompt[]): string | null {
  for (let i = prompts.length - 1; i >= 0; i--) if (prompts[i]!.posed_to !== undefined) return prompts[i]!.id;
  return null;
}

function handsBadge(room: RoomView): string | undefined {
  const n = room.floor.queue.length;
  return n > 0 ? `${n} ${n === 1 ? 'hand' : 'hands'}` : undefined;
}
