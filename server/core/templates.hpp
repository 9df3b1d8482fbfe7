#pragma once
// Content templates shipped with the protocol (protocol/templates/), compiled into the server.
#include <string>
#include <vector>

namespace colloquy {

struct AuditItem {
  std::string id;
  std::string text;
  bool operator==(const AuditItem&) const = default;
};

// The climate-for-learning audit's statements (protocol/templates/climate-audit.json).
const std::vector<AuditItem>& default_audit_items();

struct DeckCard {
  std::string id;
  std::string text;
  bool operator==(const DeckCard&) const = default;
};

// The built-in challenge deck (protocol/templates/challenge-deck.json).
const std::vector<DeckCard>& default_deck();

} // namespace colloquy
