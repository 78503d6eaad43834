#include "consent_view.hpp"

#include "tandem/core/consent.hpp"
#include "tandem/core/schema.hpp"

namespace tandem::cli {
namespace {

// Danish words for the states (screen text); JSON uses consent_status_name.
const char* state_da(ConsentStatus status) {
  switch (status) {
    case ConsentStatus::kInForce:
      return "gælder";
    case ConsentStatus::kNotYet:
      return "gælder endnu ikke";
    case ConsentStatus::kWithdrawn:
      return "trukket tilbage";
  }
  return "trukket tilbage";
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// "(givet 2025-01-01, trukket tilbage 2025-03-10)"
std::string dates_da(const ConsentState& c) {
  std::string out = "(givet " + c.given_on;
  if (!c.withdrawn_on.empty()) out += ", trukket tilbage " + c.withdrawn_on;
  return out + ")";
}

void describe_one(const Record& record, std::string_view day, Json& doc, std::string& human,
                  bool line) {
  const ConsentState c = consent_state(record, day);
  Json state = c.to_json();
  state["on"] = day;
  doc["consent"] = std::move(state);
  if (line) {
    human += "  " + c.child + "  " + c.scope + "  [" + state_da(c.status) + "]";
  } else {
    human +=
        "  tilstand " + std::string(day) + ": " + state_da(c.status) + " " + dates_da(c) + "\n";
  }
}

Status describe_child(const Store& store, const Record& record, std::string_view day, Json& doc,
                      std::string& human, bool line) {
  auto consents = consents_of_child(store, record.id, day);
  if (!consents) return std::move(consents).error();
  auto scopes = scopes_in_force(store, record.id, day);
  if (!scopes) return std::move(scopes).error();
  Json records = Json::array();
  for (const ConsentState& c : *consents) records.push_back(c.to_json());
  doc["consents"] = Json{{"on", day}, {"in_force", *scopes}, {"records", std::move(records)}};
  if (line) {
    human += "  samtykke: " + (scopes->empty() ? std::string("intet") : joined(*scopes));
    return {};
  }
  if (consents->empty()) {
    human += "  samtykker: ingen registreret\n";
    return {};
  }
  human += "  samtykker " + std::string(day) + ":\n";
  for (const ConsentState& c : *consents) {
    human += "    " + c.id + "  " + c.scope + "  " + state_da(c.status) + "  " + dates_da(c) + "\n";
  }
  return {};
}

}  // namespace

std::string consent_day(CliContext& ctx) { return copenhagen_date(ctx.now_ms()); }

Status describe_consent(const Store& store, const Record& record, std::string_view day, Json& doc,
                        std::string& human, bool line) {
  if (!record.purged.empty()) return {};  // nothing left to describe
  if (record.kind == "consent") {
    describe_one(record, day, doc, human, line);
    return {};
  }
  if (record.kind == "child" && record.live())
    return describe_child(store, record, day, doc, human, line);
  return {};
}

std::optional<ConsentNotice> consent_notice(CliContext& ctx, const Store& store,
                                            std::string_view kind, const Json& fields) {
  const std::string day = consent_day(ctx);
  auto need = consent_needed(store, kind, fields, day);
  if (!need) {
    const std::string why = need.error().message;
    return ConsentNotice{
        Json{
            {"code", "consent_unchecked"},
            {"message",
             "the record is saved; whether consent covers its forum could not be checked: " + why}},
        "tandem: bemærk: posten er gemt, men samtykket kunne ikke kontrolleres (" + why + ")."};
  }
  if (!need->has_value() || (*need)->covered()) return std::nullopt;
  const ConsentNeed& n = **need;
  const bool meeting = n.forum_kind == "meeting";
  // Only external_professionals missing: the teachers see it, the externals do not.
  const bool externals_only =
      n.missing == std::vector<std::string>{std::string(kScopeExternalProfessionals)};
  std::string en = "no consent in force on " + day + " for child " + n.child + " (" +
                   joined(n.missing) + "); the record is saved and ";
  std::string da = "tandem: bemærk: intet samtykke (" + joined(n.missing) +
                   ") gælder i dag for barnet " + n.child + ". Posten er gemt, men ";
  if (externals_only) {
    en += "the course's external participants do not see it";
    da += "forløbets eksterne deltagere ser den ikke";
  } else {
    en += "stays with its author and the resource centre";
    da += std::string("ses kun af dig og ressourcecentret, ikke af ") +
          (meeting ? "mødets deltagere" : "forløbets deltagere");
  }
  da += ", før samtykket er registreret.";
  Json json = {{"code", "consent_missing"},
               {"child", n.child},
               {"forum", n.forum},
               {"forum_kind", n.forum_kind},
               {"needed", n.needed},
               {"missing", n.missing},
               {"on", day},
               {"message", en}};
  return ConsentNotice{std::move(json), da + "\ntandem: notice (consent_missing): " + en + "."};
}

}  // namespace tandem::cli
