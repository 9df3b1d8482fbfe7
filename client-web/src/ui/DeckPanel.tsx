// Challenge deck (protocol 1.3): the "Challenge deck" panel. Everyone sees the card on show (the
// last one drawn); facilitators and co-facilitators draw a card, see the deck, remove cards and add
// their own. State comes from the room view; a refused command (`deck_empty`, `unknown_card`,
// `invalid_text`, `forbidden`) shows in the room's error area.

import { useRef, useState } from 'preact/hooks';
import { prepareCardText, type Connection } from '../connection';
import { MAX_CARD_CHARS, type DeckCard, type DeckState, type Role } from '../protocol';
import { isFacilitatorRole, shownCard } from '../room-state';
import { CountedTextArea, Panel, usePanelAct, type Act } from './Panel';

/** An element id made from a card id (ids are server-chosen; keep them to safe characters). */
function domId(prefix: string, cardId: string): string {
  return `${prefix}-${cardId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** "3 of 12 cards drawn": how far the deck has gone since it last started over. */
export function drawnText(deck: DeckState): string {
  const total = deck.cards.length;
  const drawn = deck.drawn.length;
  return `${drawn} of ${total === 1 ? '1 card' : `${total} cards`} drawn`;
}

export function DeckPanel({ connection, deck, role }: { connection: Connection; deck: DeckState; role: Role }) {
  const { headingRef, act } = usePanelAct();
  const facilitator = isFacilitatorRole(role);
  const shown = shownCard(deck);

  return (
    <Panel name="deck" title="Challenge deck" headingRef={headingRef}>
      {shown ? (
        <div class="deck-card-shown" data-testid="deck-card-shown" data-card-id={shown.id}>
          <p class="deck-shown-label">Challenge</p>
          <p class="deck-shown-text">
            {shown.text}
          </p>
        </div>
      ) : (
        <p class="muted empty-note" data-testid="deck-none">
          No challenge drawn yet.
        </p>
      )}
      {facilitator && <DeckControls deck={deck} connection={connection} act={act} />}
    </Panel>
  );
}

function DeckControls({ deck, connection, act }: { deck: DeckState; connection: Connection; act: Act }) {
  const [drawing, setDrawing] = useState(false);
  const empty = deck.cards.length === 0;
  return (
    <>
      <div class="deck-draw-row">
        <button
          type="button"
          class="button primary"
          data-testid="deck-draw"
          aria-disabled={drawing ? 'true' : undefined}
          aria-describedby="deck-draw-hint"
          onClick={() => {
            if (drawing) return;
            setDrawing(true);
            void act(() => connection.drawCard()).then(() => setDrawing(false));
          }}
        >
          Draw a challenge
        </button>
        <p id="deck-draw-hint" class="hint deck-draw-hint">
          {empty
            ? 'The deck is empty: add a card before drawing.'
            : `${drawnText(deck)}. Each draw shows a card not drawn yet to the whole group; after the last one the deck starts over.`}
        </p>
      </div>
      <CardList deck={deck} connection={connection} act={act} />
      <AddCardForm connection={connection} act={act} />
    </>
  );
}

function CardList({ deck, connection, act }: { deck: DeckState; connection: Connection; act: Act }) {
  const listRef = useRef<HTMLUListElement>(null);
  const shownId = deck.drawn.length > 0 ? deck.drawn[deck.drawn.length - 1] : undefined;

  function remove(card: DeckCard, index: number) {
    void act(() => connection.removeCard(card.id)).then((outcome) => {
      if (!outcome.ok) return;
      // The pressed button is gone with its card: focus the next card's Remove (or the previous one's).
      setTimeout(() => {
        const buttons = listRef.current?.querySelectorAll<HTMLButtonElement>('[data-testid="deck-remove"]');
        if (!buttons || buttons.length === 0) return;
        buttons[Math.min(index, buttons.length - 1)]?.focus();
      }, 0);
    });
  }

  return (
    <section class="deck-section" aria-labelledby="deck-cards-heading">
      <h3 id="deck-cards-heading">
        Cards <span class="count">({deck.cards.length})</span>
      </h3>
      {deck.cards.length === 0 && <p class="muted empty-note">No cards in the deck.</p>}
      <ul ref={listRef} class="deck-list" data-testid="deck-cards" aria-labelledby="deck-cards-heading">
        {deck.cards.map((card, i) => {
          const textId = domId('deck-card-text', card.id);
          const drawn = deck.drawn.includes(card.id);
          const onShow = card.id === shownId;
          return (
            <li
              key={card.id}
              class={onShow ? 'deck-item on-show' : drawn ? 'deck-item drawn' : 'deck-item'}
              data-testid="deck-card"
              data-card-id={card.id}
              data-drawn={drawn ? 'true' : 'false'}
            >
              <p id={textId} class="deck-item-text">
                {card.text}
              </p>
              <div class="deck-item-meta">
                {onShow ? (
                  <span class="tag on-show">on show</span>
                ) : (
                  drawn && <span class="tag drawn">drawn</span>
                )}
                <button
                  type="button"
                  class="button small"
                  data-testid="deck-remove"
                  aria-describedby={textId}
                  onClick={() => remove(card, i)}
                >
                  Remove
                </button>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function AddCardForm({ connection, act }: { connection: Connection; act: Act }) {
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const textRef = useRef<HTMLTextAreaElement>(null);

  async function submit(e: Event) {
    e.preventDefault();
    if (sending) return;
    if (prepareCardText(text) === null) {
      // Not sent: the connection shows why in the error area.
      void connection.addCard(text);
      textRef.current?.focus();
      return;
    }
    setSending(true);
    const outcome = await act(() => connection.addCard(text));
    setSending(false);
    if (outcome.ok) setText('');
    textRef.current?.focus();
  }

  return (
    <form class="deck-section deck-add-form" aria-labelledby="deck-add-heading" onSubmit={submit}>
      <h3 id="deck-add-heading">Add a card</h3>
      <CountedTextArea
        id="deck-text"
        label="Challenge question"
        name="card"
        testId="deck-text"
        rows={2}
        max={MAX_CARD_CHARS}
        value={text}
        onValue={setText}
        describedBy="deck-text-count deck-text-keys"
        countId="deck-text-count"
        textRef={textRef}
        ctrlEnterSubmits
        meta={
          <span id="deck-text-keys" class="hint-inline">
            The card joins this room's deck. <kbd>Ctrl</kbd>+<kbd>Enter</kbd> adds it.
          </span>
        }
      />
      <button type="submit" class="button" data-testid="deck-add" aria-disabled={sending ? 'true' : undefined}>
        {sending ? 'Adding…' : 'Add card'}
      </button>
    </form>
  );
}
