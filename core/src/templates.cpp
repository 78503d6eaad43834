// Shipped observation templates and the definition parser (templates.hpp).
//
// The shipped definitions are kept as JSON text, exactly the form a school's
// own template has, so they pass through the same parser and tests.
#include "tandem/core/templates.hpp"

#include <map>
#include <set>
#include <utility>

#include "tandem/core/schema.hpp"

namespace tandem {
namespace {

Error invalid(const std::string& path, const std::string& what) {
  return make_error(ErrorCode::kInvalidValue, "template definition: " + path + ": " + what);
}

// The elements of the optional array definition[key] (empty when absent);
// every element must be an object.
Result<std::vector<const Json*>> objects_of(const Json& def, const char* key, std::size_t limit) {
  std::vector<const Json*> out;
  auto it = def.find(key);
  if (it == def.end() || it->is_null()) return out;
  if (!it->is_array()) return invalid(key, "must be an array");
  if (it->size() > limit) {
    return make_error(ErrorCode::kTooLong, std::string("template definition: too many ") + key);
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_object())
      return invalid(key + ("[" + std::to_string(i) + "]"), "must be an object");
    out.push_back(&(*it)[i]);
  }
  return out;
}

// obj[key] as a string: "" when absent and optional; an error when it is not
// a string, or empty while required.
Result<std::string> text_of(const Json& obj, const char* key, const std::string& path,
                            bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return invalid(path + "." + key, "is required");
    return std::string();
  }
  if (!it->is_string()) return invalid(path + "." + key, "must be a string");
  std::string s = it->get<std::string>();
  if (required && s.empty()) return invalid(path + "." + key, "must not be empty");
  return s;
}

Status check_label(const Json& obj, const std::string& path) {
  auto it = obj.find("label");
  if (it == obj.end()) return {};
  if (!it->is_object()) return invalid(path + ".label", "must be an object of texts");
  for (const auto& [lang, text] : it->items()) {
    if (!text.is_string()) return invalid(path + ".label." + lang, "must be a string");
  }
  return {};
}

std::string at(const char* key, std::size_t i) {
  return std::string(key) + "[" + std::to_string(i) + "]";
}

// Codes and rating items are what entries record in their `code` field.
Status check_code_length(const std::string& code, const std::string& path) {
  if (utf8_length(code) <= kMaxCodeLength) return {};
  return make_error(ErrorCode::kTooLong, "template definition: " + path + ": longer than " +
                                             std::to_string(kMaxCodeLength) + " characters");
}

// Ids of an array of objects (`id_key` required, unique), labels checked.
Result<std::vector<std::string>> ids_of(const Json& def, const char* key, const char* id_key,
                                        std::size_t limit) {
  auto objs = objects_of(def, key, limit);
  TANDEM_TRY(objs);
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < objs->size(); ++i) {
    const Json& o = *(*objs)[i];
    auto id = text_of(o, id_key, at(key, i), true);
    TANDEM_TRY(id);
    if (!seen.insert(*id).second) return invalid(at(key, i), "duplicate " + *id);
    TANDEM_TRY(check_label(o, at(key, i)));
    ids.push_back(std::move(*id));
  }
  return ids;
}

Result<summary::Category> parse_category(const Json& c, const std::string& path,
                                         const std::map<std::string, std::string>& group_of,
                                         std::map<std::string, std::string>& category_of) {
  summary::Category cat;
  auto name = text_of(c, "name", path, true);
  TANDEM_TRY(name);
  auto group = text_of(c, "group", path, false);
  TANDEM_TRY(group);
  TANDEM_TRY(check_label(c, path));
  cat.name = std::move(*name);
  cat.group = std::move(*group);
  auto codes = c.find("codes");
  if (codes == c.end() || !codes->is_array() || codes->empty()) {
    return invalid(path + ".codes", "must be a non-empty array of codes");
  }
  for (const Json& code : *codes) {
    if (!code.is_string()) return invalid(path + ".codes", "must hold strings");
    const std::string s = code.get<std::string>();
    auto g = group_of.find(s);
    if (g == group_of.end()) return invalid(path + ".codes", "unknown code " + s);
    if (g->second != cat.group) {
      return invalid(path + ".codes", s + " belongs to group '" + g->second + "'");
    }
    if (!category_of.emplace(s, cat.name).second) {
      return invalid(path + ".codes", s + " is already in category '" + category_of[s] + "'");
    }
    cat.codes.push_back(s);
  }
  return cat;
}

}  // namespace

Result<summary::CodingScheme> parse_coding_scheme(const Json& definition) {
  if (!definition.is_object()) return invalid("definition", "must be an object");
  auto groups = ids_of(definition, "groups", "group", kMaxTemplateItems);
  TANDEM_TRY(groups);
  const std::set<std::string> listed(groups->begin(), groups->end());

  summary::CodingScheme scheme;
  std::map<std::string, std::string> group_of;  // code -> group
  auto codes = objects_of(definition, "codes", kMaxTemplateCodes);
  TANDEM_TRY(codes);
  for (std::size_t i = 0; i < codes->size(); ++i) {
    const Json& c = *(*codes)[i];
    auto code = text_of(c, "code", at("codes", i), true);
    TANDEM_TRY(code);
    TANDEM_TRY(check_code_length(*code, at("codes", i)));
    auto group = text_of(c, "group", at("codes", i), false);
    TANDEM_TRY(group);
    TANDEM_TRY(check_label(c, at("codes", i)));
    if (!listed.empty() && listed.count(*group) == 0) {
      return invalid(at("codes", i), "group '" + *group + "' is not in groups");
    }
    if (!group_of.emplace(*code, *group).second)
      return invalid(at("codes", i), "duplicate " + *code);
    scheme.codes.push_back({std::move(*code), std::move(*group)});
  }

  auto categories = objects_of(definition, "categories", kMaxTemplateItems);
  TANDEM_TRY(categories);
  std::map<std::string, std::string> category_of;  // code -> category name
  std::set<std::pair<std::string, std::string>> names;
  std::set<std::string> categorised_groups;
  for (std::size_t i = 0; i < categories->size(); ++i) {
    auto cat = parse_category(*(*categories)[i], at("categories", i), group_of, category_of);
    TANDEM_TRY(cat);
    if (!names.emplace(cat->group, cat->name).second) {
      return invalid(at("categories", i), "duplicate category " + cat->name);
    }
    categorised_groups.insert(cat->group);
    scheme.categories.push_back(std::move(*cat));
  }
  // Partition: a group with categories must have all its codes categorised.
  for (const summary::CodeDef& c : scheme.codes) {
    if (categorised_groups.count(c.group) != 0 && category_of.count(c.code) == 0) {
      return invalid("categories",
                     "code " + c.code + " of group '" + c.group + "' is in no category");
    }
  }
  return scheme;
}

Result<std::vector<RatingItem>> parse_rating_items(const Json& definition) {
  if (!definition.is_object()) return invalid("definition", "must be an object");
  auto ids = ids_of(definition, "ratings", "item", kMaxTemplateItems);
  TANDEM_TRY(ids);
  auto objs = objects_of(definition, "ratings", kMaxTemplateItems);
  TANDEM_TRY(objs);
  std::vector<RatingItem> items;
  for (std::size_t i = 0; i < ids->size(); ++i) {
    const Json& o = *(*objs)[i];
    RatingItem r{(*ids)[i], 1.0, 5.0};
    TANDEM_TRY(check_code_length(r.item, at("ratings", i)));
    for (auto [key, bound] : {std::pair{"min", &r.min}, std::pair{"max", &r.max}}) {
      auto it = o.find(key);
      if (it == o.end()) continue;
      if (!it->is_number()) return invalid(at("ratings", i) + "." + key, "must be a number");
      *bound = it->get<double>();
    }
    if (!(r.min < r.max)) return invalid(at("ratings", i), "min must be below max");
    items.push_back(std::move(r));
  }
  return items;
}

Status validate_template(const TemplateDef& t) {
  if (t.id.empty()) return invalid("id", "must not be empty");
  if (t.name.empty()) return invalid("name", "must not be empty");
  static const std::set<std::string> kKinds = {"interval", "event", "focus", "reflection"};
  if (kKinds.count(t.kind) == 0) return invalid("kind", "unknown kind " + t.kind);
  if (t.kind == "interval" ? t.interval_seconds <= 0 : t.interval_seconds != 0) {
    return invalid("interval_seconds", "must be > 0 for interval templates and 0 otherwise");
  }
  auto scheme = parse_coding_scheme(t.definition);
  TANDEM_TRY(scheme);
  if (t.kind == "interval" && scheme->codes.empty()) {
    return invalid("codes", "an interval template needs codes");
  }
  TANDEM_TRY(parse_rating_items(t.definition));
  TANDEM_TRY(ids_of(t.definition, "prompts", "id", kMaxTemplateItems));
  return {};
}

Json TemplateDef::to_json() const {
  return {{"id", id},
          {"name", name},
          {"kind", kind},
          {"interval_seconds", interval_seconds},
          {"definition", definition}};
}

// ---- The shipped definitions --------------------------------------------
namespace builtin_data {

// COPUS: Smith, Jones, Gilbert & Wieman, CBE-Life Sciences Education 12(4),
// 2013; the collapsed categories of DOMAIN.md's appendix.
constexpr const char* kCopus = R"json({
  "label": {"da": "COPUS – observation i 2-minutters intervaller",
            "en": "COPUS – Classroom Observation Protocol for Undergraduate STEM"},
  "groups": [
    {"group": "students", "label": {"da": "Elever", "en": "Students"}},
    {"group": "instructor", "label": {"da": "Lærer", "en": "Instructor"}}],
  "codes": [
    {"code": "S-L", "group": "students", "label": {"da": "Lytter/tager noter", "en": "Listening/taking notes"}},
    {"code": "S-Ind", "group": "students", "label": {"da": "Tænker individuelt på lærerens opfordring", "en": "Individual thinking when asked by the instructor"}},
    {"code": "S-CG", "group": "students", "label": {"da": "Drøfter et afstemningsspørgsmål i grupper", "en": "Discussing a clicker question in groups"}},
    {"code": "S-WG", "group": "students", "label": {"da": "Gruppearbejde med opgaveark", "en": "Worksheet group work"}},
    {"code": "S-OG", "group": "students", "label": {"da": "Anden gruppeaktivitet", "en": "Other group activity"}},
    {"code": "S-AnQ", "group": "students", "label": {"da": "Elev svarer på et spørgsmål, klassen lytter", "en": "A student answers a question with the class listening"}},
    {"code": "S-SQ", "group": "students", "label": {"da": "Elev stiller et spørgsmål", "en": "A student asks a question"}},
    {"code": "S-WC", "group": "students", "label": {"da": "Helklassediskussion", "en": "Whole-class discussion"}},
    {"code": "S-Prd", "group": "students", "label": {"da": "Forudsiger udfaldet af en demonstration", "en": "Predicting a demo's outcome"}},
    {"code": "S-SP", "group": "students", "label": {"da": "Elevfremlæggelse", "en": "Student presentation"}},
    {"code": "S-TQ", "group": "students", "label": {"da": "Test eller quiz", "en": "Test or quiz"}},
    {"code": "S-W", "group": "students", "label": {"da": "Venter", "en": "Waiting"}},
    {"code": "S-O", "group": "students", "label": {"da": "Andet", "en": "Other"}},
    {"code": "I-Lec", "group": "instructor", "label": {"da": "Forelæser/gennemgår", "en": "Lecturing"}},
    {"code": "I-RtW", "group": "instructor", "label": {"da": "Skriver på tavle/projektor undervejs", "en": "Real-time writing on board/projector"}},
    {"code": "I-FUp", "group": "instructor", "label": {"da": "Opfølgning/feedback til klassen", "en": "Follow-up/feedback to the class"}},
    {"code": "I-PQ", "group": "instructor", "label": {"da": "Stiller et ikke-retorisk spørgsmål", "en": "Posing a non-rhetorical question"}},
    {"code": "I-CQ", "group": "instructor", "label": {"da": "Stiller et afstemningsspørgsmål", "en": "Clicker question"}},
    {"code": "I-AnQ", "group": "instructor", "label": {"da": "Svarer på et elevspørgsmål, klassen lytter", "en": "Answering a student question with the class listening"}},
    {"code": "I-MG", "group": "instructor", "label": {"da": "Går rundt og vejleder under aktivt arbejde", "en": "Moving and guiding during active work"}},
    {"code": "I-1o1", "group": "instructor", "label": {"da": "Længere samtale med én elev eller gruppe", "en": "Extended one-on-one discussion"}},
    {"code": "I-D/V", "group": "instructor", "label": {"da": "Demonstration, video eller simulering", "en": "Demo, video, simulation"}},
    {"code": "I-Adm", "group": "instructor", "label": {"da": "Administration", "en": "Administration"}},
    {"code": "I-W", "group": "instructor", "label": {"da": "Venter", "en": "Waiting"}},
    {"code": "I-O", "group": "instructor", "label": {"da": "Andet", "en": "Other"}}],
  "categories": [
    {"name": "Presenting", "group": "instructor", "label": {"da": "Formidler", "en": "Presenting"}, "codes": ["I-Lec", "I-RtW", "I-D/V"]},
    {"name": "Guiding", "group": "instructor", "label": {"da": "Vejleder", "en": "Guiding"}, "codes": ["I-FUp", "I-PQ", "I-CQ", "I-AnQ", "I-MG", "I-1o1"]},
    {"name": "Administration", "group": "instructor", "label": {"da": "Administration", "en": "Administration"}, "codes": ["I-Adm"]},
    {"name": "Other", "group": "instructor", "label": {"da": "Andet", "en": "Other"}, "codes": ["I-W", "I-O"]},
    {"name": "Receiving", "group": "students", "label": {"da": "Modtager", "en": "Receiving"}, "codes": ["S-L"]},
    {"name": "Talking to class", "group": "students", "label": {"da": "Taler til klassen", "en": "Talking to class"}, "codes": ["S-AnQ", "S-SQ", "S-WC", "S-SP"]},
    {"name": "Working", "group": "students", "label": {"da": "Arbejder", "en": "Working"}, "codes": ["S-Ind", "S-CG", "S-WG", "S-OG", "S-Prd", "S-TQ"]},
    {"name": "Other", "group": "students", "label": {"da": "Andet", "en": "Other"}, "codes": ["S-W", "S-O"]}]
})json";

// Classroom management (klasseledelse): event codes for the teacher's
// structure and relational moves and the pupils' engagement, plus 1-5
// ratings of the lesson as a whole.
constexpr const char* kKlasseledelse = R"json({
  "label": {"da": "Klasseledelse – fokusark", "en": "Classroom management – focus sheet"},
  "groups": [
    {"group": "teacher", "label": {"da": "Lærer", "en": "Teacher"}},
    {"group": "pupils", "label": {"da": "Elever", "en": "Pupils"}}],
  "codes": [
    {"code": "T-Start", "group": "teacher", "label": {"da": "Tydelig start på lektionen", "en": "Clear start of the lesson"}},
    {"code": "T-Goal", "group": "teacher", "label": {"da": "Mål for lektionen gjort tydelige", "en": "Lesson goals made explicit"}},
    {"code": "T-Instr", "group": "teacher", "label": {"da": "Tydelig instruktion givet", "en": "Clear instructions given"}},
    {"code": "T-Trans", "group": "teacher", "label": {"da": "Overgang mellem aktiviteter", "en": "Transition between activities"}},
    {"code": "T-End", "group": "teacher", "label": {"da": "Tydelig afslutning", "en": "Clear end of the lesson"}},
    {"code": "T-Praise", "group": "teacher", "label": {"da": "Ros/anerkendelse", "en": "Praise/acknowledgement"}},
    {"code": "T-Rule", "group": "teacher", "label": {"da": "Henviser til regler og aftaler", "en": "Refers to rules and agreements"}},
    {"code": "T-Correct", "group": "teacher", "label": {"da": "Irettesættelse/korrektion", "en": "Correction/reprimand"}},
    {"code": "P-OnTask", "group": "pupils", "label": {"da": "Eleverne er i gang med opgaven", "en": "Pupils on task"}},
    {"code": "P-OffTask", "group": "pupils", "label": {"da": "Eleverne er ikke i gang med opgaven", "en": "Pupils off task"}},
    {"code": "P-Disrupt", "group": "pupils", "label": {"da": "Uro eller forstyrrelse", "en": "Disruption"}}],
  "categories": [
    {"name": "Structure", "group": "teacher", "label": {"da": "Struktur", "en": "Structure"}, "codes": ["T-Start", "T-Goal", "T-Instr", "T-Trans", "T-End"]},
    {"name": "Acknowledgement", "group": "teacher", "label": {"da": "Anerkendelse", "en": "Acknowledgement"}, "codes": ["T-Praise"]},
    {"name": "Correction", "group": "teacher", "label": {"da": "Korrektion", "en": "Correction"}, "codes": ["T-Rule", "T-Correct"]},
    {"name": "Engaged", "group": "pupils", "label": {"da": "Engagerede", "en": "Engaged"}, "codes": ["P-OnTask"]},
    {"name": "Not engaged", "group": "pupils", "label": {"da": "Ikke engagerede", "en": "Not engaged"}, "codes": ["P-OffTask", "P-Disrupt"]}],
  "ratings": [
    {"item": "R-Structure", "min": 1, "max": 5, "label": {"da": "Lektionen har en tydelig struktur", "en": "The lesson has a clear structure"}},
    {"item": "R-Expectations", "min": 1, "max": 5, "label": {"da": "Forventninger og regler er tydelige for eleverne", "en": "Expectations and rules are clear to the pupils"}},
    {"item": "R-Transitions", "min": 1, "max": 5, "label": {"da": "Overgange forløber roligt", "en": "Transitions run smoothly"}},
    {"item": "R-Relations", "min": 1, "max": 5, "label": {"da": "Læreren møder eleverne anerkendende", "en": "The teacher meets the pupils with acknowledgement"}},
    {"item": "R-Engagement", "min": 1, "max": 5, "label": {"da": "Eleverne er engagerede i undervisningen", "en": "The pupils are engaged in the lesson"}}],
  "prompts": [
    {"id": "focus", "label": {"da": "Aftalt fokus for observationen", "en": "Focus agreed for the observation"}},
    {"id": "worked_well", "label": {"da": "Hvad lykkedes særligt godt?", "en": "What worked particularly well?"}},
    {"id": "next_step", "label": {"da": "Forslag til næste skridt", "en": "Suggested next step"}}]
})json";

// Co-teaching reflection sheet: each participant's prompts after a session.
constexpr const char* kCoteachingReflection = R"json({
  "label": {"da": "Co-teaching – refleksionsark", "en": "Co-teaching – reflection sheet"},
  "prompts": [
    {"id": "goals", "label": {"da": "Nåede vi de mål, vi aftalte for lektionen? Hvordan ved vi det?", "en": "Did we reach the goals we agreed for the lesson? How do we know?"}},
    {"id": "roles", "label": {"da": "Hvordan fungerede rollefordelingen mellem os?", "en": "How did our role distribution work?"}},
    {"id": "approach", "label": {"da": "Passede den valgte co-teaching-form til lektionens formål?", "en": "Did the co-teaching approach fit the purpose of the lesson?"}},
    {"id": "pupils", "label": {"da": "Hvilke elever fik særligt gavn af lektionen, og hvem nåede vi ikke?", "en": "Which pupils benefited most, and whom did we not reach?"}},
    {"id": "environment", "label": {"da": "Hvad ændrede sig i læringsmiljøet?", "en": "What changed in the learning environment?"}},
    {"id": "surprise", "label": {"da": "Hvad overraskede os?", "en": "What surprised us?"}},
    {"id": "next_time", "label": {"da": "Hvad gør vi anderledes næste gang? Hvilke aftaler gør vi?", "en": "What will we do differently next time? What do we agree on?"}}]
})json";

}  // namespace builtin_data

const std::vector<TemplateDef>& builtin_templates() {
  static const std::vector<TemplateDef> kTemplates = {
      {std::string(kTemplateCopus), "COPUS (2-minutters intervaller)", "interval", 120,
       Json::parse(builtin_data::kCopus)},
      {std::string(kTemplateKlasseledelse), "Klasseledelse – fokusark", "focus", 0,
       Json::parse(builtin_data::kKlasseledelse)},
      {std::string(kTemplateCoteachingReflection), "Co-teaching – refleksionsark", "reflection", 0,
       Json::parse(builtin_data::kCoteachingReflection)},
  };
  return kTemplates;
}

const TemplateDef* find_builtin_template(std::string_view id) {
  for (const TemplateDef& t : builtin_templates()) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

}  // namespace tandem
