// Parental consent as a domain rule (SYNC.md, Visibility; docs/visibility.md):
// what a consent record means on a given day, which scopes are in force for a
// child, and which scope a note or an agenda item about a child needs to reach
// the people of its forum. The server's visibility and the CLI both decide
// with these functions, so "in force" means the same thing everywhere.
//
// A consent is in force from `given_on` through the day before `withdrawn_on`
// (both Danish dates, "YYYY-MM-DD"; copenhagen_date() gives today's). A
// deleted or purged consent is in force on no day.
//
// Thread-safety: pure functions; the Store-reading ones follow the Store's
// rule (one thread at a time per Store).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/core/store.hpp"

namespace tandem {

// The consent scopes (the `scope` field of a consent record).
inline constexpr std::string_view kScopeObservationNotes = "observation_notes";
inline constexpr std::string_view kScopeResourceTeam = "resource_team";
inline constexpr std::string_view kScopeExternalProfessionals = "external_professionals";

enum class ConsentStatus {
  kInForce,    // given_on <= day < withdrawn_on (or not withdrawn)
  kNotYet,     // day < given_on (or no given_on at all)
  kWithdrawn,  // withdrawn_on <= day, or the record is deleted or purged
};

// Stable names for scripts and JSON: "in_force", "not_yet", "withdrawn".
std::string_view consent_status_name(ConsentStatus status) noexcept;

// The status of a consent given on `given_on` and withdrawn on `withdrawn_on`
// ("" = not withdrawn) on `day`. Dates compare as text (YYYY-MM-DD).
ConsentStatus consent_status(std::string_view given_on, std::string_view withdrawn_on,
                             std::string_view day) noexcept;
inline bool consent_in_force(std::string_view given_on, std::string_view withdrawn_on,
                             std::string_view day) noexcept {
  return consent_status(given_on, withdrawn_on, day) == ConsentStatus::kInForce;
}

// One consent record as read on a day.
struct ConsentState {
  std::string id;
  std::string child;
  std::string scope;
  std::string given_on;
  std::string withdrawn_on;  // "" when not withdrawn
  ConsentStatus status = ConsentStatus::kNotYet;
  bool in_force() const { return status == ConsentStatus::kInForce; }
  // {"id","child","scope","given_on","withdrawn_on"?,"state"}
  Json to_json() const;
};

// The state of a consent record on `day`. REQUIRES: record.kind == "consent".
ConsentState consent_state(const Record& consent, std::string_view day);

// Every live consent record of `child` on `day`, sorted by id.
Result<std::vector<ConsentState>> consents_of_child(const Store& store, std::string_view child,
                                                    std::string_view day);
// The scopes in force for `child` on `day` (sorted, no duplicates).
Result<std::vector<std::string>> scopes_in_force(const Store& store, std::string_view child,
                                                 std::string_view day);

// The consent scope under which a record in the forum of `anchor_kind`
// ("course", "meeting", "action") reaches a person of `role` who is neither
// its author nor the resource centre: resource_team for a meeting's agenda,
// external_professionals for an external, observation_notes otherwise.
std::string_view consent_scope_for(std::string_view anchor_kind, std::string_view role) noexcept;

// What a new or changed record that names a child needs before its forum
// sees it.
struct ConsentNeed {
  std::string child;
  std::string forum;                 // the course or meeting id ("" when not found locally)
  std::string forum_kind;            // "course" or "meeting"
  std::vector<std::string> needed;   // scopes the forum's people need (sorted)
  std::vector<std::string> missing;  // those of `needed` not in force on the day
  bool covered() const { return missing.empty(); }
};

// For an `entry` (under a session of a course) or an `agenda_item` (under a
// meeting) with these merged `fields` that names a child: the scopes its
// forum needs on `day` and which of them are missing. A course needs
// observation_notes, and external_professionals as well when one of its
// people (participants, tovholder) is an external; a meeting needs
// resource_team. nullopt for other kinds and for records naming no child.
// A session or course not held locally is treated as a course of teachers.
Result<std::optional<ConsentNeed>> consent_needed(const Store& store, std::string_view kind,
                                                  const Json& fields, std::string_view day);

}  // namespace tandem
