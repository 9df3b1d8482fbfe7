// The challenge deck (core/activities/deck.*): the built-in deck is the initial state, edits are
// deltas (deck_card_added, deck_card_removed), ids are never reused, draws do not repeat until
// every card was drawn; the retired deck_changed still replays.
#include "core_fixture.hpp"
#include "hub_fixture.hpp"

#include <set>

namespace colloquy {
namespace {

using testing::PromptsTest;
using testing::Recorder;
using json = nlohmann::json;

// ---- the core

class Deck : public testing::CoreTest {
protected:
  std::string draw(std::uint64_t seed) {
    auto events = apply_ok(DrawCard{grace, seed});
    return events.empty() ? "" : std::get<DeckCardDrawn>(events.at(0).body).card.id;
  }
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const auto& c : state.deck.cards()) out.push_back(c.id);
    return out;
  }
};

TEST_F(Deck, TheBuiltInDeckIsTheInitialState) {
  EXPECT_EQ(state.deck.cards(), default_deck());
  EXPECT_FALSE(state.deck.edited());
  EXPECT_EQ(state.deck.next_card(), default_deck().size() + 1);
}

TEST_F(Deck, EditsAreDeltasAndIdsAreNeverReused) {
  refused(AddCard{ada, "Mine"}, ErrorCode::forbidden);
  auto added = apply_ok(AddCard{grace, "What would your deputy say?"});
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(std::get<DeckCardAdded>(added[0].body).card, (DeckCard{"c13", "What would your deputy say?"}));
  EXPECT_TRUE(state.deck.edited());
  auto removed = apply_ok(RemoveCard{grace, "c13"});
  EXPECT_EQ(std::get<DeckCardRemoved>(removed.at(0).body).card_id, "c13");
  refused(RemoveCard{grace, "c13"}, ErrorCode::unknown_card);
  apply_ok(AddCard{grace, "Again"});
  EXPECT_EQ(ids().back(), "c14") << "a removed card's id is not given again";
  EXPECT_EQ(state.deck.find("c14")->text, "Again");
  EXPECT_EQ(state.deck.size(), default_deck().size() + 1);
}

TEST_F(Deck, DrawsDoNotRepeatUntilEveryCardWasDrawnAndRemovedCardsAreNeverDrawn) {
  apply_ok(RemoveCard{grace, "c1"});
  std::set<std::string> seen;
  for (std::uint64_t i = 0; i < state.deck.size(); ++i) seen.insert(draw(i * 7919));
  EXPECT_EQ(seen.size(), state.deck.size());
  EXPECT_FALSE(seen.contains("c1"));
  EXPECT_EQ(state.deck.drawn().size(), state.deck.size());
  const std::string again = draw(3);
  EXPECT_EQ(state.deck.drawn(), std::vector<std::string>{again}) << "then the deck starts over";
  apply_ok(RemoveCard{grace, again});
  EXPECT_TRUE(state.deck.drawn().empty()) << "a removed card is not on show any more";
}

TEST_F(Deck, AnEmptyDeckHasNothingToDraw) {
  for (const auto& card : default_deck()) apply_ok(RemoveCard{grace, card.id});
  refused(DrawCard{grace, 1}, ErrorCode::deck_empty);
}

TEST_F(Deck, DecideIsAFunctionOfTheState) {
  const auto first = decide(state, DrawCard{grace, 42}, now);
  const auto second = decide(state, DrawCard{grace, 42}, now);
  EXPECT_EQ(std::get<Decision>(first).events.at(0).body, std::get<Decision>(second).events.at(0).body);
}

TEST_F(Deck, DeckChangedRecordedBefore14StillReplays) {
  draw(1);
  const std::string shown = state.deck.drawn().back();
  // A 1.3 log: the whole deck after an edit, keeping the card on show and adding one.
  std::vector<DeckCard> cards{DeckCard{shown, state.deck.find(shown)->text}, DeckCard{"c13", "Added in 1.3"}};
  evolve(state, Event{state.seq + 1, now, DeckChanged{cards}, {}});
  EXPECT_EQ(state.deck.cards(), cards);
  EXPECT_EQ(state.deck.drawn(), std::vector<std::string>{shown}) << "what was drawn of the cards still there stays drawn";
  EXPECT_EQ(state.deck.next_card(), 14u);
  EXPECT_EQ(draw(5), "c13") << "the one card not drawn yet";
}

// ---- through the hub

TEST_F(PromptsTest, ChallengeDeckIsBuiltInEditableAndDrawnWithoutRepeats) {
  auto grace = join("Grace", true);
  auto ada = join("Ada");
  const json snapshot = grace->of_type("reply").front()["result"]["snapshot"];
  const auto built_in = snapshot["deck"]["cards"].size();
  EXPECT_EQ(built_in, default_deck().size());
  EXPECT_EQ(send(ada, {{"type", "deck_draw"}})["code"], "forbidden");
  EXPECT_EQ(send(ada, {{"type", "deck_add"}, {"text", "Mine"}})["code"], "forbidden");
  EXPECT_EQ(send(grace, {{"type", "deck_add"}, {"text", "What would your deputy say?"}})["type"], "reply");
  // 1.4: the deck changes by deltas, never the whole list.
  const json added = ada->events("deck_card_added").back()["event"];
  EXPECT_EQ(added["card"]["id"], "c" + std::to_string(built_in + 1));
  EXPECT_EQ(added["card"]["text"], "What would your deputy say?");
  const auto deck_of = [&](const std::string& name) { return join(name)->of_type("reply").back()["result"]["snapshot"]["deck"]; };
  ASSERT_EQ(deck_of("Lin")["cards"].size(), built_in + 1);
  EXPECT_EQ(deck_of("Kim")["cards"].back()["id"], "c" + std::to_string(built_in + 1));
  EXPECT_EQ(send(grace, {{"type", "deck_remove"}, {"card", "c1"}})["type"], "reply");
  EXPECT_EQ(ada->events("deck_card_removed").back()["event"], (json{{"kind", "deck_card_removed"}, {"card_id", "c1"}}));
  EXPECT_EQ(send(grace, {{"type", "deck_remove"}, {"card", "c1"}})["code"], "unknown_card");
  EXPECT_TRUE(ada->events("deck_changed").empty()) << "deck_changed is not made since 1.4";
  const auto cards = deck_of("Sam")["cards"].size();
  EXPECT_EQ(cards, built_in);
  std::set<std::string> drawn;
  for (std::size_t i = 0; i < cards; ++i) {
    ASSERT_EQ(send(grace, {{"type", "deck_draw"}})["type"], "reply");
    drawn.insert(ada->events("deck_card_drawn").back()["event"]["card"]["id"].get<std::string>());
  }
  EXPECT_EQ(drawn.size(), cards) << "every card once before any repeats";
  EXPECT_FALSE(drawn.contains("c1")) << "a removed card is never drawn";
  ASSERT_EQ(send(grace, {{"type", "deck_draw"}})["type"], "reply") << "then the deck starts over";
}

} // namespace
} // namespace colloquy
