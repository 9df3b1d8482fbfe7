#pragma once
// The climate-for-learning audit: open, answers checked (the hub stores them, never in the log,
// never with who gave them), close with results only from k answers.
#include "core/decision.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace colloquy {

struct RoomState;

// Who answered what is never part of it.
struct Audit {
  std::string id;
  std::int64_t k = default_audit_k;
  std::vector<AuditItem> items;
  bool open = true;
  std::int64_t responses = 0;          // once closed
  std::optional<AuditResults> results; // once closed, if at least k answered
};

struct OpenAudit { std::string actor; std::int64_t k = default_audit_k; };
// Checks an answer against the open audit; the caller stores it (never in the room log).
struct CheckAuditAnswer { std::string actor; std::vector<std::pair<std::string, std::int64_t>> answers; };
// The tally, made by the caller from its store; results are published only if responses >= k.
struct CloseAudit { std::string actor; std::int64_t responses = 0; AuditResults tally; };

// The open audit's answer values in its item order, for a checked answer.
std::vector<std::int64_t> audit_values(const Audit& audit, const CheckAuditAnswer& answer);

namespace audit {

struct State {
  std::optional<Audit> current; // the latest: open, or closed with its outcome
  std::uint64_t started = 0;    // audits opened in this room (ids a1, a2, …)
};

DecideResult decide(const RoomState& room, const OpenAudit& c, const Context& ctx);
DecideResult decide(const RoomState& room, const CheckAuditAnswer& c, const Context& ctx);
DecideResult decide(const RoomState& room, const CloseAudit& c, const Context& ctx);

void evolve(State& s, const AuditOpened& e, std::int64_t time_ms);
void evolve(State& s, const AuditClosed& e, std::int64_t time_ms);

} // namespace audit
} // namespace colloquy
