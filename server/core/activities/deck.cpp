#include "core/activities/deck.hpp"

#include "core/random.hpp"

#include "core/room.hpp"
#include "core/state_bytes.hpp"
#include "core/templates.hpp"

#include <algorithm>

namespace colloquy::deck {
namespace {
// The number N of a card id "cN", or 0.
std::uint64_t card_number(const std::string& id) {
  if (id.size() < 2 || id[0] != 'c') return 0;
  std::uint64_t n = 0;
  for (std::size_t i = 1; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return 0;
    n = n * 10 + static_cast<std::uint64_t>(id[i] - '0');
  }
  return n;
}
} // namespace

State::State() { replace(default_deck(), false, {}, {}, 0); }

std::vector<DeckCard> State::cards() const {
  std::vector<DeckCard> out;
  out.reserve(live_);
  for (const auto& slot : slots_) {
    if (slot) out.push_back(*slot);
  }
  return out;
}

std::vector<std::string> State::drawn() const {
  std::vector<std::string> out;
  for (const auto& id : drawn_) {
    if (drawn_set_.contains(id)) out.push_back(id);
  }
  return out;
}

const DeckCard* State::find(std::string_view id) const {
  auto it = slot_of_.find(std::string(id));
  return it == slot_of_.end() ? nullptr : &*slots_[it->second];
}

const DeckCard& State::nth(std::size_t k) const {
  for (const auto& slot : slots_) {
    if (slot && k-- == 0) return *slot;
  }
  return *slots_.front(); // not reached for k < size()
}

void State::add(DeckCard card) {
  if (slot_of_.contains(card.id)) return;
  next_card_ = std::max(next_card_, card_number(card.id) + 1);
  slot_of_.emplace(card.id, slots_.size());
  undrawn_at_.emplace(card.id, undrawn_.size());
  undrawn_.push_back(card.id);
  bytes_ += state_bytes::card(card.id, card.text);
  slots_.push_back(std::move(card));
  ++live_;
  edited_ = true;
}

void State::take_from_undrawn(const std::string& id) {
  auto it = undrawn_at_.find(id);
  if (it == undrawn_at_.end()) return;
  const std::size_t at = it->second;
  undrawn_at_.erase(it);
  if (at + 1 != undrawn_.size()) {
    undrawn_[at] = std::move(undrawn_.back());
    undrawn_at_[undrawn_[at]] = at;
  }
  undrawn_.pop_back();
}

void State::remove(const std::string& id) {
  auto it = slot_of_.find(id);
  if (it == slot_of_.end()) return;
  bytes_ -= state_bytes::card(slots_[it->second]->id, slots_[it->second]->text);
  slots_[it->second].reset();
  slot_of_.erase(it);
  --live_;
  take_from_undrawn(id);
  drawn_set_.erase(id);
  edited_ = true;
  if (slots_.size() > 2 * live_ + 16) compact(); // empty slots never outnumber the cards for long
}

void State::compact() {
  std::vector<std::optional<DeckCard>> slots;
  slots.reserve(live_);
  slot_of_.clear();
  for (auto& slot : slots_) {
    if (!slot) continue;
    slot_of_.emplace(slot->id, slots.size());
    slots.push_back(std::move(slot));
  }
  slots_ = std::move(slots);
  std::erase_if(drawn_, [&](const std::string& id) { return !drawn_set_.contains(id); });
}

void State::draw(const std::string& id) {
  if (drawn_set_.contains(id)) {
    // Every card had been drawn: the deck starts over.
    drawn_.clear();
    drawn_set_.clear();
    undrawn_.clear();
    undrawn_at_.clear();
    for (const auto& slot : slots_) {
      if (!slot) continue;
      undrawn_at_.emplace(slot->id, undrawn_.size());
      undrawn_.push_back(slot->id);
    }
  }
  take_from_undrawn(id);
  drawn_.push_back(id);
  drawn_set_.insert(id);
}

void State::replace(std::vector<DeckCard> cards, bool edited, const std::vector<std::string>& drawn,
                    const std::vector<std::string>& undrawn, std::uint64_t next_card) {
  slots_.clear();
  slot_of_.clear();
  drawn_.clear();
  drawn_set_.clear();
  undrawn_.clear();
  undrawn_at_.clear();
  live_ = 0;
  bytes_ = 0;
  next_card_ = std::max(next_card_, next_card);
  for (auto& card : cards) {
    if (slot_of_.contains(card.id)) continue;
    next_card_ = std::max(next_card_, card_number(card.id) + 1);
    slot_of_.emplace(card.id, slots_.size());
    bytes_ += state_bytes::card(card.id, card.text);
    slots_.push_back(std::move(card));
    ++live_;
  }
  for (const auto& id : drawn) {
    if (slot_of_.contains(id) && drawn_set_.insert(id).second) drawn_.push_back(id);
  }
  for (const auto& id : undrawn) {
    if (slot_of_.contains(id) && !drawn_set_.contains(id) && !undrawn_at_.contains(id)) {
      undrawn_at_.emplace(id, undrawn_.size());
      undrawn_.push_back(id);
    }
  }
  for (const auto& slot : slots_) { // every card not drawn is a candidate, whatever was stored
    if (slot && !drawn_set_.contains(slot->id) && !undrawn_at_.contains(slot->id)) {
      undrawn_at_.emplace(slot->id, undrawn_.size());
      undrawn_.push_back(slot->id);
    }
  }
  edited_ = edited;
}

DecideResult decide(const RoomState& room, const AddCard& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators edit the deck");
  if (room.deck.size() >= max_deck_cards) return Error{ErrorCode::deck_full, "the deck holds 200 cards; remove one first"};
  DeckCard card{"c" + std::to_string(room.deck.next_card()), c.text};
  if (auto full = state_bytes::check_growth(room, state_bytes::card(card.id, card.text), ctx)) return *full;
  Emitter out(room.seq, ctx.now_ms);
  out.emit(DeckCardAdded{std::move(card)});
  return out.take();
}

DecideResult decide(const RoomState& room, const RemoveCard& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators edit the deck");
  if (!room.deck.find(c.card)) return Error{ErrorCode::unknown_card, "no card with that id"};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(DeckCardRemoved{c.card});
  return out.take();
}

DecideResult decide(const RoomState& room, const DrawCard& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators draw a challenge");
  const State& deck = room.deck;
  if (deck.size() == 0) return Error{ErrorCode::deck_empty, "the deck has no cards"};
  SeededRandom random(c.seed);
  // A card not drawn yet; after the last, the deck starts over (any card, in deck order).
  const DeckCard& card = deck.undrawn().empty() ? deck.nth(random.below(deck.size()))
                                                : *deck.find(deck.undrawn()[random.below(deck.undrawn().size())]);
  Emitter out(room.seq, ctx.now_ms);
  out.emit(DeckCardDrawn{card});
  return out.take();
}

void evolve(State& s, const DeckCardAdded& e, std::int64_t) { s.add(e.card); }
void evolve(State& s, const DeckCardRemoved& e, std::int64_t) { s.remove(e.card_id); }
void evolve(State& s, const DeckCardDrawn& e, std::int64_t) { s.draw(e.card.id); }
void evolve(State& s, const DeckChanged& e, std::int64_t) {
  // Recorded before 1.4: the whole deck after an edit. What was drawn of the cards still there stays drawn.
  s.replace(e.cards, true, s.drawn(), {}, s.next_card());
}

} // namespace colloquy::deck
