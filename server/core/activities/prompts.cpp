#include "core/activities/prompts.hpp"

#include "core/room.hpp"
#include "core/state_bytes.hpp"

namespace colloquy::prompts {

const ReleasedPrompt* State::find(std::string_view id) const {
  auto it = index_.find(std::string(id));
  return it == index_.end() ? nullptr : &released_[it->second];
}

ReleasedPrompt* State::find(std::string_view id) { return const_cast<ReleasedPrompt*>(std::as_const(*this).find(id)); }

void State::add(ReleasedPrompt prompt) {
  if (index_.contains(prompt.id)) return;
  index_.emplace(prompt.id, released_.size());
  bytes_ += state_bytes::released_prompt(prompt.id, prompt.text);
  released_.push_back(std::move(prompt));
}

DecideResult decide(const RoomState& room, const CheckPrompt& c, const Context&) {
  const Member* a = presence::actor(room, c.actor);
  if (!a) return forbidden("you are not in this room");
  if (c.action == PromptAction::submit && a->role == Role::observer) return forbidden("observers do not submit prompts");
  if (c.action == PromptAction::manage && !leads(a->role)) return forbidden("only facilitators manage pending prompts");
  return Decision{};
}

DecideResult decide(const RoomState& room, const ReleasePrompts& c, const Context& ctx) {
  if (!c.actor.empty() && !presence::lead(room, c.actor)) return forbidden("only facilitators release prompts");
  if (c.batch.empty()) return Decision{};
  if (room.prompts.released().size() + c.batch.size() > max_released_prompts) {
    return Error{ErrorCode::too_many_prompts, "the room keeps 200 released prompts; no more can be released"};
  }
  std::size_t growth = 0;
  for (const auto& p : c.batch) {
    if (room.prompts.find(p.id)) return Error{ErrorCode::invalid_field, "that prompt was released already"};
    growth += state_bytes::released_prompt(p.id, p.text);
  }
  if (auto full = state_bytes::check_growth(room, growth, ctx)) return *full;
  Emitter out(room.seq, ctx.now_ms);
  out.emit(PromptsReleased{c.batch});
  return out.take();
}

DecideResult decide(const RoomState& room, const UpvotePrompt& c, const Context& ctx) {
  const Member* a = presence::actor(room, c.actor);
  if (!a || a->role == Role::observer) return forbidden("observers do not vote");
  const ReleasedPrompt* p = room.prompts.find(c.prompt);
  if (!p) return Error{ErrorCode::unknown_prompt, "no released prompt with that id"};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(PromptUpvoted{c.prompt, p->votes + 1});
  return out.take();
}

DecideResult decide(const RoomState& room, const PosePrompt& c, const Context& ctx) {
  if (!presence::lead(room, c.actor)) return forbidden("only facilitators pose prompts");
  if (!room.prompts.find(c.prompt)) return Error{ErrorCode::unknown_prompt, "no released prompt with that id"};
  if (c.member && !presence::actor(room, *c.member)) return Error{ErrorCode::unknown_member, "no member with that id in the room"};
  Emitter out(room.seq, ctx.now_ms);
  out.emit(PromptPosed{c.prompt, c.member});
  return out.take();
}

void evolve(State& s, const PromptsReleased& e, std::int64_t) {
  for (const auto& p : e.prompts) s.add(ReleasedPrompt{p.id, p.text, 0, false, std::nullopt});
}
void evolve(State& s, const PromptUpvoted& e, std::int64_t) {
  if (ReleasedPrompt* p = s.find(e.prompt_id)) p->votes = e.votes;
}
void evolve(State& s, const PromptPosed& e, std::int64_t) {
  if (ReleasedPrompt* p = s.find(e.prompt_id)) {
    p->posed = true;
    p->posed_to = e.member_id;
  }
}

} // namespace colloquy::prompts
