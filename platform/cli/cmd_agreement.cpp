// `tandem agreement SESSION1 SESSION2`: how well two observers of the same
// lesson agree (core: tandem/core/agreement.hpp has the model and formulas,
// docs/agreement.md a worked example), printed for people.
//
// Human text is Danish like the rest of the CLI; --json carries the core's
// document with its stable English member names and reason codes (per code:
// code, a, b, c, d, jaccard, kappa, percent_agreement; an `overall` object).
#include <algorithm>
#include <cstdio>

#include "commands.hpp"
#include "format.hpp"
#include "tandem/core/agreement.hpp"
#include "tandem/core/schema.hpp"

namespace tandem::cli {
namespace {

namespace ag = tandem::agreement;

struct AgreementOptions {
  std::string first;
  std::string second;
};

// Why a measure is undefined, in Danish.
std::string reason(std::string_view code) {
  if (code == ag::kNeverPresent) return "ingen af dem kodede den";
  if (code == ag::kChanceIsOne) return "begge konstante og ens";
  if (code == ag::kNoUnits) return "ingen enheder";
  if (code == ag::kNoCodeUsed) return "ingen koder brugt";
  return std::string(code);
}

std::string number(const std::optional<double>& v, const char* format) {
  if (!v) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, *v);
  return buf;
}

// Right-aligned in `width` code points ("–" is one, three bytes).
std::string right(const std::string& text, std::size_t width) {
  const std::size_t n = utf8_length(text);
  return n >= width ? text : std::string(width - n, ' ') + text;
}

// The three measures as aligned columns under "Jaccard   kappa   enighed".
std::string columns(const ag::Measures& m) {
  return right(number(m.jaccard, "%.2f"), 7) + right(number(m.kappa, "%.2f"), 8) +
         right(number(m.percent_agreement, "%.1f %%"), 9);
}

std::string counts(const ag::Counts& k) {
  return "(" + std::to_string(k.a) + " " + std::to_string(k.b) + " " + std::to_string(k.c) + " " +
         std::to_string(k.d) + ")";
}

std::string undefined_note(const ag::Measures& m) {
  std::string out;
  if (!m.jaccard) out += "Jaccard: " + reason(m.jaccard_undefined);
  if (!m.kappa) out += std::string(out.empty() ? "" : "; ") + "kappa: " + reason(m.kappa_undefined);
  return out.empty() ? out : "  [" + out + "]";
}

std::string human(const ag::SessionAgreement& s) {
  const ag::Agreement& a = s.agreement;
  const bool seconds = a.unit == ag::Unit::kSecond;
  std::string out = "Enighed mellem " + s.first_session + " og " + s.second_session + "\n";
  out +=
      std::string("  ") +
      (seconds ? "varighedskodning: enheder à 1 s, hver observation regnet fra sin første hændelse"
               : "intervalkodning: enheder = intervaller") +
      (!seconds && a.unit_seconds > 0 ? " à " + std::to_string(a.unit_seconds) + " s" : "") + "\n";
  out += "  " + std::to_string(a.units) + " enheder (første " + std::to_string(a.first.units) +
         ", anden " + std::to_string(a.second.units) + ")";
  const std::int64_t ignored = a.first.ignored_entries + a.second.ignored_entries;
  if (ignored > 0) out += ", " + std::to_string(ignored) + " registreringer uden for";
  out += "\n";
  std::size_t width = 8;
  for (const auto& c : a.codes) width = std::max(width, utf8_length(c.code));
  out += "  " + pad_right("kode", width) + right("Jaccard", 7) + right("kappa", 8) +
         right("enighed", 9) + "  (a b c d)\n";
  for (const auto& c : a.codes) {
    out += "  " + pad_right(c.code, width) + columns(c.measures) + "  " + counts(c.counts);
    if (!c.in_first_template || !c.in_second_template) {
      out += c.in_first_template    ? "  kun i førstes skabelon"
             : c.in_second_template ? "  kun i andens skabelon"
                                    : "  i ingen skabelon";
    }
    out += undefined_note(c.measures) + "\n";
  }
  const ag::Overall& o = a.overall;
  out += "  " + pad_right("samlet", width) + columns(o.measures) + "  " + counts(o.pooled) +
         "  puljet over " + std::to_string(o.codes) + " brugte koder" + undefined_note(o.measures) +
         "\n";
  if (o.codes > 0) {
    out += "  gennemsnit pr. kode: Jaccard " + number(o.mean_jaccard, "%.2f") + " (" +
           std::to_string(o.jaccard_codes) + " koder), kappa " + number(o.mean_kappa, "%.2f") +
           " (" + std::to_string(o.kappa_codes) + " koder), enighed " +
           number(o.mean_percent_agreement, "%.1f %%") + "\n";
  }
  out += "  a = begge, b = kun første, c = kun anden, d = ingen; – = udefineret\n";
  return out;
}

int run_agreement(CliContext& ctx, const AgreementOptions& o) {
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  auto a = ag::session_agreement(**store, o.first, o.second);
  if (!a.ok()) return ctx.fail(a.error());
  return ctx.ok(a->to_json(), human(*a));
}

}  // namespace

void register_agreement_commands(CLI::App& app, CliContext& ctx) {
  const auto o = std::make_shared<AgreementOptions>();
  CLI::App* cmd = app.add_subcommand(
      "agreement", "Agreement of two observations of one lesson (Jaccard, kappa, percent)");
  cmd->add_option("first", o->first, "First observer's session id")->required();
  cmd->add_option("second", o->second, "Second observer's session id")->required();
  cmd->callback([&ctx, o] { run_agreement(ctx, *o); });
}

}  // namespace tandem::cli
