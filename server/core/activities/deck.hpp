#pragma once
// The challenge deck: the built-in cards (protocol/templates/challenge-deck.json) are the initial
// state; facilitators add and remove cards (deck_card_added, deck_card_removed) and draw one not
// drawn yet for the group. Cards are found by id through an index; adding, removing and drawing
// cost the same in a deck of 12 cards or of 500.
#include "core/decision.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace colloquy {

struct RoomState;

namespace deck {

class State {
public:
  State(); // the built-in deck

  // The cards in deck order, and those drawn since the deck last started over (the last is on
  // show). These copy: for snapshots and storage, never for a decision.
  std::vector<DeckCard> cards() const;
  std::vector<std::string> drawn() const;
  std::size_t size() const { return live_; }
  // The deck's bytes in a snapshot (core/state_bytes.hpp), kept as cards come and go.
  std::size_t bytes() const { return bytes_; }
  const DeckCard* find(std::string_view id) const;
  bool edited() const { return edited_; } // false: still the built-in deck, following its template
  std::uint64_t next_card() const { return next_card_; }
  // The cards not drawn yet, in the order the next draw chooses from (kept by storage, so that a
  // room loaded from a snapshot decides as one that replayed its log).
  const std::vector<std::string>& undrawn() const { return undrawn_; }
  // The card `k` of the live cards in deck order (0 <= k < size()): walks, does not copy.
  const DeckCard& nth(std::size_t k) const;

  void add(DeckCard card);
  void remove(const std::string& id);
  void draw(const std::string& id);
  // A whole deck at once (deck_changed, recorded before 1.4; or a stored room): drawn ids that
  // name no card are dropped; `undrawn` empty means every card not drawn, in deck order.
  void replace(std::vector<DeckCard> cards, bool edited, const std::vector<std::string>& drawn,
               const std::vector<std::string>& undrawn, std::uint64_t next_card);

private:
  void take_from_undrawn(const std::string& id);
  void compact();

  std::vector<std::optional<DeckCard>> slots_; // deck order; a removed card leaves an empty slot
  std::unordered_map<std::string, std::size_t> slot_of_;
  std::size_t live_ = 0;
  std::size_t bytes_ = 0;
  std::vector<std::string> drawn_; // may still name removed cards (skipped); drawn_set_ is exact
  std::unordered_set<std::string> drawn_set_;
  std::vector<std::string> undrawn_;
  std::unordered_map<std::string, std::size_t> undrawn_at_;
  std::uint64_t next_card_ = 1;
  bool edited_ = false;
};

DecideResult decide(const RoomState& room, const AddCard& c, const Context& ctx);
DecideResult decide(const RoomState& room, const RemoveCard& c, const Context& ctx);
DecideResult decide(const RoomState& room, const DrawCard& c, const Context& ctx);

void evolve(State& s, const DeckCardAdded& e, std::int64_t time_ms);
void evolve(State& s, const DeckCardRemoved& e, std::int64_t time_ms);
void evolve(State& s, const DeckCardDrawn& e, std::int64_t time_ms);
void evolve(State& s, const DeckChanged& e, std::int64_t time_ms);

} // namespace deck
} // namespace colloquy
