// gallery.h — the enrolled faces, and the one way to ask who a face is nearest to.
//
// A Gallery owns the enrolled descriptors (rows), the person each row belongs
// to (its label), the original photo it derives from (its source: an original
// and its augmented copies share one), the rows grouped per person, and an
// optional search index (gallery_index.h). Everything that asks "who is
// nearest?" — predict and live through the Classifier, train's leave-one-out
// report, eval's closed- and open-set protocols — asks it here, in two steps:
//
//   candidates(q, vote, query)  the rows a vote looks at, with exact distances;
//   decide(candidates, vote)    the vote: the best person and their nearest row;
//   answer(match, threshold)    the threshold: that person, or unknown.
//
// Leaving a photo or a person out (leave-one-out, open-set strangers) is a
// field of the Query, never a copy of the gallery.
//
// The votes:
//   per_person: for each person, the mean distance to their nearest min(m, n)
//     candidate rows; the lowest mean wins. A person enrolled with 2-3 photos
//     is not outvoted by the many near-ish rows of a well-enrolled one.
//   knn: the k nearest candidate rows vote with weight 1/max(d, 1e-6); the
//     heaviest person wins.
// Either way the match's distance is to the chosen person's nearest candidate
// row. Ties go to the person with the nearer nearest row, then the lower label.
//
// Candidates: without an index (or with Query::exact) every row that is not
// left out, complete() true. With an index, the rows it proposes, with exact
// distances recomputed by the same kernel (types.h): knn, the max(k, 64) rows
// it returns; per_person, every row of each person among the max(64, 8m) it
// returns, so each such person's mean is exact. Left-out rows are asked for on
// top and then dropped. The answer therefore equals the exact search's whenever
// the rows the vote needs are among the candidates.
#pragma once
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gallery_index.h"
#include "types.h"

namespace facepipe {

enum class VoteMode : std::uint8_t { per_person = 0, knn = 1 };

// "per-person" / "knn" (the CLI spelling).
const char* to_string(VoteMode m);
// Accepts "per-person" and "knn"; throws Error(subject, ...) otherwise.
VoteMode parse_vote_mode(const std::string& text, const std::string& subject = "--vote");

// How a vote is taken. k is used by knn, per_person_m by per_person.
struct VoteParams {
    VoteMode vote = VoteMode::per_person;
    int k = 1;             // >= 1
    int per_person_m = 3;  // >= 1
};

// What one question leaves out, and how it is searched.
struct Query {
    int without_source = -1;  // leave out the rows derived from this source photo (-1: none)
    int without_label = -1;   // leave out this person's rows: they become a stranger (-1: none)
    bool exact = false;       // scan every row even when the gallery has an index
};

// The vote's outcome before the threshold. label -1 when no candidate row was left.
struct Match {
    int label = -1;
    float distance = std::numeric_limits<float>::infinity();  // to the person's nearest candidate row
};

// The final answer: a person, or unknown (label -1, name "unknown").
struct Prediction {
    int label = -1;
    std::string name = "unknown";
    float distance = 0.f;  // to the chosen person's nearest row (unknown or not)
};

// The rows a vote looks at, with exact distances. Filled by Gallery::candidates.
class Candidates {
public:
    // True when every row that is not left out is a candidate: the set then
    // serves every vote, whatever vote it was asked for.
    bool complete() const { return dense_; }

    // Calls f(row, distance) for every candidate.
    template <class F>
    void for_each(F f) const {
        if (dense_) {
            for (std::size_t i = 0; i < all_.size(); ++i)
                if (!left_out(i)) f(i, all_[i]);
        } else {
            for (const auto& [i, d] : some_) f(std::size_t(i), d);
        }
    }

private:
    friend class Gallery;
    bool left_out(std::size_t row) const {
        return (*sources_)[row] == query_.without_source || (*labels_)[row] == query_.without_label;
    }
    bool dense_ = true;
    std::vector<float> all_;                               // dense: every row's distance
    std::vector<std::pair<std::uint32_t, float>> some_;    // sparse: (row, distance), none left out
    Query query_;
    const std::vector<std::int32_t>* labels_ = nullptr;
    const std::vector<std::int32_t>* sources_ = nullptr;
};

class Gallery {
public:
    // Row i is descriptors[i*128 .. i*128+127]; labels[i] indexes names,
    // sources[i] indexes source_paths.
    struct Rows {
        std::vector<std::string> names;         // label -> person
        std::vector<std::string> source_paths;  // source -> original photo
        std::vector<float> descriptors;         // rows * 128, contiguous
        std::vector<std::int32_t> labels, sources;
        std::size_t size() const { return labels.size(); }
    };

    // ensures: "" when rows (and the index, if any) are consistent: array
    //          lengths agree, names non-empty, unique, printable and at most
    //          kMaxPayloadString bytes, every label and source in range, every
    //          value finite, the index over exactly these rows. Else a short
    //          reason (model files report it as "corrupted: <reason>").
    static std::string problem(const Rows& rows, const GalleryIndex* index);

    // An empty gallery (no names, no rows).
    Gallery() = default;
    // requires: problem(rows, index.get()) == "", else throws Error("gallery", "invalid: <reason>").
    Gallery(Rows rows, std::shared_ptr<const GalleryIndex> index);

    std::size_t size() const { return rows_.size(); }
    const Rows& rows() const { return rows_; }
    const std::vector<std::string>& names() const { return rows_.names; }
    const float* descriptor(std::size_t row) const { return &rows_.descriptors[row * kDescriptorDim]; }
    int label(std::size_t row) const { return rows_.labels[row]; }
    int source(std::size_t row) const { return rows_.sources[row]; }
    // Person p's rows, ascending. requires: 0 <= p < names().size().
    std::pair<const std::uint32_t*, const std::uint32_t*> person_rows(int p) const {
        return {person_rows_.data() + person_start_[p], person_rows_.data() + person_start_[p + 1]};
    }
    // Null: exact search only. Shared and never modified.
    const std::shared_ptr<const GalleryIndex>& index() const { return index_; }
    // "exact" or "hnsw (M 32, efSearch 256)": how a query searches.
    std::string search_description() const;

    // requires: vote valid (k, per_person_m >= 1).
    // ensures:  out holds the candidates for q under `vote`, without the rows
    //           `query` leaves out (see the top of this file).
    void candidates(const float* q, const VoteParams& vote, const Query& query, Candidates& out) const;
    // The vote over the candidates (see the top of this file).
    Match decide(const Candidates& c, const VoteParams& vote) const;
    // candidates + decide.
    Match match(const float* q, const VoteParams& vote, const Query& query = {}) const;
    // The threshold: the match's person when its distance is at most
    // `threshold`, else unknown; the distance is the match's either way.
    Prediction answer(const Match& m, float threshold) const;

    // Distance from q to person p's nearest row, leaving out the rows of
    // `without_source` (-1: none); infinity when p has no other row.
    float nearest_of_person(const float* q, int p, int without_source = -1) const;
    // Rows derived from source s (an original and its augmented copies).
    std::size_t source_rows(int s) const { return per_source_[s]; }

private:
    Rows rows_;
    std::shared_ptr<const GalleryIndex> index_;
    // Person p's rows are person_rows_[person_start_[p] .. person_start_[p+1]).
    std::vector<std::uint32_t> person_rows_, person_start_{0};
    std::vector<std::uint32_t> per_source_;
};

}  // namespace facepipe
