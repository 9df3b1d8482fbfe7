#pragma once
// Content templates shipped with the protocol (protocol/templates/), compiled into the server.
#include "core/generated/messages.hpp"

#include <vector>

namespace colloquy {

// The climate-for-learning audit's statements (protocol/templates/climate-audit.json).
const std::vector<AuditItem>& default_audit_items();

// The built-in challenge deck (protocol/templates/challenge-deck.json).
const std::vector<DeckCard>& default_deck();

} // namespace colloquy
