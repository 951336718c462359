// Fused kernels for the optimizers on native TensorFlow: the row work of the
// projection optimizers, Adam's update, L2-SP's anchor pull and SPD's
// projection.
//
// tfjs-node runs one TensorFlow kernel per op with no fusion, so FTP's
// projection — offset, |offset|, row sums, g ⊙ c_prev, its row sums, the
// row-wise scale and the add of the anchor — was seven full passes over every
// large weight matrix, each paying for a fresh output buffer. Two kernels
// do the same arithmetic in two passes: one that reads the parameters and the
// base rule's updates (or the tentative weights), the anchor, the gradient and
// the previous offset and writes the offset plus two row vectors, and one that
// writes anchor + factor[row] · offset. Inside an optimizer step their inputs
// come from memory, not cache: they are bound by memory bandwidth, so every
// pass over a weight matrix streams through contiguous memory.
//
// A "row" follows src/optim/rows.ts: the slice of a tensor at one index of its
// row axis. Rows are summed in double in an order fixed by the shape alone, so
// results do not depend on the number of threads.
//
// Adam's update (the base rule of AdamW and the anchored optimizers, TPGM's
// radii) is twelve tfjs ops per tensor; AnchorageAdam does it for all of a
// rule's tensors in one kernel, with the same float rounding; FTP's constraint
// update runs the same Adam inside AnchorageRowScaleAdd.
//
// Built by `anchorage setup native` (src/native/build.ts) against the
// TensorFlow the tfjs-node binding uses, portable by default: the baseline
// instruction set, with the hot loops cloned for AVX2 and AVX-512 and the
// clone chosen at load (GCC's target_clones); never with contraction into
// fused multiply-adds, so every product is rounded as TensorFlow's ops round
// it and every clone gives the same bits. Loaded by src/native/kernels.ts as
// a Node addon: loading it registers the ops, which the binding then runs by
// name.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/util/work_sharder.h"

// The hot loops, cloned per vector width and dispatched at load (x86-64 with GCC); elsewhere built as they are.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(ANCHORAGE_NO_CLONES)
#define ANCHORAGE_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ANCHORAGE_HOT
#endif

namespace anchorage {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

// Every tensor of a projection in one call (N of them): their rows' vectors
// come out end to end, followed by `pad` zero rows, as src/optim/rows.ts lays
// them out — so no concat, split or per-tensor launch is left around them.
//
// With `with_update`, the first list holds the parameters before the step and
// `update` the base rule's updates: the tentative weights p + u are formed in
// the same pass (the same float sum as a separate add), never written out.
//
// Besides the raw row sums, what a projection with one constraint per "part"
// (a tensor) needs next,
// so that no gather over the rows is left for tfjs ops: each row's
// scale = 1 / (Σ|offset| + eps), each part's largest Σ|offset| + eps, and each
// part's Σ over its rows of dots × row_weights (with_grad only; FTP's
// constraint gradient, with the previous step's scales as weights).
REGISTER_OP("AnchorageRowOffsets")
    .Input("tentative: N * float")
    .Input("anchor: N * float")
    .Input("grad: N * float")
    .Input("prev: N * float")
    .Input("update: N * float")
    .Input("row_weights: float")
    .Attr("N: int >= 1")
    .Attr("row_axes: list(int)")
    .Attr("with_grad: bool")
    .Attr("with_update: bool")
    .Attr("pad: int >= 0")
    .Attr("eps: float")
    .Output("offset: N * float")
    .Output("norms: float")
    .Output("dots: float")
    .Output("scale: float")
    .Output("part_max: float")
    .Output("part_dots: float")
    .SetShapeFn(tensorflow::shape_inference::UnknownShape);

// anchor + f[row] · offset for every tensor. f is `factors` itself, or with
// `by_part` clamp(part_values[part of the row] · factors[row], 0, 1) — FTP's
// clip factor min(γ / ‖c‖₁, 1) from the scales above, with no gather.
//
// With `update_parts` (and by_part), the part values are first stepped as FTP
// steps its constraints γ, with the ops of plugins/optimizers/ftp.ts rounded
// alike: g = part_grad, times k where positive; Adam on g with the moments
// part_m, part_v; γ' = min(max(γ − lr · adam, floor), part_ceiling). γ' is
// what the factors use; γ', m and v come out as part_values_out, part_m_out,
// part_v_out (empty without update_parts). `part_coefficients`: Adam's seven
// (see AnchorageAdam), then lr, floor, k.
REGISTER_OP("AnchorageRowScaleAdd")
    .Input("anchor: N * float")
    .Input("offset: N * float")
    .Input("factors: float")
    .Input("part_values: float")
    .Input("part_grad: float")
    .Input("part_ceiling: float")
    .Input("part_m: float")
    .Input("part_v: float")
    .Input("part_coefficients: float")
    .Attr("N: int >= 1")
    .Attr("row_axes: list(int)")
    .Attr("by_part: bool")
    .Attr("update_parts: bool")
    .Output("out: N * float")
    .Output("part_values_out: float")
    .Output("part_m_out: float")
    .Output("part_v_out: float")
    .SetShapeFn(tensorflow::shape_inference::UnknownShape);

// Adam's moments and step (src/optim/transforms.ts, scaleByAdam) for all of a
// rule's tensors in one pass each: m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g²,
// update = (m / bc1) / (√v / √bc2 + eps), each operation rounded to float as
// the separate tfjs ops round it, so the results are the same bits.
// `coefficients`: [β1, 1−β1, β2, 1−β2, bc1, √bc2, eps] as float32.
REGISTER_OP("AnchorageAdam")
    .Input("grad: N * float")
    .Input("m: N * float")
    .Input("v: N * float")
    .Input("coefficients: float")
    .Attr("N: int >= 1")
    .Output("m_out: N * float")
    .Output("v_out: N * float")
    .Output("update: N * float")
    .SetShapeFn(tensorflow::shape_inference::UnknownShape);

// L2-SP's anchor pull for all of a rule's tensors in one kernel: out = grad + (param − anchor) · alpha, rounded
// as the three ops it replaces (sub, mul, add).
REGISTER_OP("AnchorageAnchorPull")
    .Input("grad: N * float")
    .Input("param: N * float")
    .Input("anchor: N * float")
    .Input("alpha: float")
    .Attr("N: int >= 1")
    .Output("out: N * float")
    .SetShapeFn(tensorflow::shape_inference::UnknownShape);

// SPD's projection (Tian et al., 2024) for all of its tensors in one kernel. Per tensor, with c = tentative −
// anchor and c_prev = param − anchor: the pull f = λ · clamp((‖c‖₂ − ‖c_prev‖₂) / (‖c‖₂ + 1e-12), 0, 1) where
// Σ grad ⊙ c_prev > 0, else 0; out = tentative − f · c. The three sums in double, in blocks fixed by the shape.
REGISTER_OP("AnchorageSpd")
    .Input("tentative: N * float")
    .Input("param: N * float")
    .Input("anchor: N * float")
    .Input("grad: N * float")
    .Input("lambda: float")
    .Attr("N: int >= 1")
    .Output("out: N * float")
    .SetShapeFn(tensorflow::shape_inference::UnknownShape);

// The last stages of every optimizer step (src/optim) for all of its tensors in one kernel each: the update
// scaled by the learning rate, out = x · scale, and the update applied, out = a + b. One operation per element,
// rounded as the op it replaces (Mul, Add), so the results are the same bits.
REGISTER_OP("AnchorageScale")
    .Input("x: N * float")
    .Input("scale: float")
    .Attr("N: int >= 1")
    .Output("out: N * float")
    .SetShapeFn(tensorflow::shape_inference::UnknownShape);

REGISTER_OP("AnchorageAdd")
    .Input("a: N * float")
    .Input("b: N * float")
    .Attr("N: int >= 1")
    .Output("out: N * float")
    .SetShapeFn(tensorflow::shape_inference::UnknownShape);

// A tensor seen as [A, R, B]: its R rows, each summed over A and B.
struct Rows {
  int64_t a = 1, r = 1, b = 1;
  int64_t count() const { return r; }
};

static tensorflow::Status rowsOf(const TensorShape& shape, int row_axis, Rows* g) {
  *g = Rows();
  const int rank = shape.dims();
  if (rank <= 1) {
    // A vector (a bias) or a scalar is one row.
    for (int i = 0; i < rank; ++i) g->b *= shape.dim_size(i);
    return tensorflow::OkStatus();
  }
  if (row_axis < 0 || row_axis >= rank) {
    return tensorflow::errors::InvalidArgument("row_axis ", row_axis, " out of range for a tensor of rank ", rank);
  }
  for (int i = 0; i < row_axis; ++i) g->a *= shape.dim_size(i);
  g->r = shape.dim_size(row_axis);
  for (int i = row_axis + 1; i < rank; ++i) g->b *= shape.dim_size(i);
  return tensorflow::OkStatus();
}

// The row geometry of each tensor of an input list, and where its rows start in the joint vector.
static void layoutOf(OpKernelContext* ctx, const tensorflow::OpInputList& xs, const std::vector<int32_t>& axes,
                     std::vector<Rows>* rows, std::vector<int64_t>* starts) {
  OP_REQUIRES(ctx, axes.size() == static_cast<size_t>(xs.size()),
              tensorflow::errors::InvalidArgument("row_axes has ", axes.size(), " entries for ", xs.size(), " tensors"));
  int64_t at = 0;
  for (int i = 0; i < xs.size(); ++i) {
    Rows g;
    OP_REQUIRES_OK(ctx, rowsOf(xs[i].shape(), axes[i], &g));
    rows->push_back(g);
    starts->push_back(at);
    at += g.count();
  }
  starts->push_back(at);
}

// How a tensor's elements are cut into units of work. Rows innermost (B = 1: a dense [in, out] or conv
// [kh, kw, in, out] kernel) are cut by lines — A lines of R contiguous elements — in blocks of about
// kBlockElements, so that work streams through contiguous memory (cut by rows instead, each piece would read a
// strided part of every line, at a fraction of the memory bandwidth); each block sums its lines into its own
// partial row sums, added afterwards in block order. Otherwise (rows of B contiguous elements, rows on a middle
// axis, a bias) a unit is a row. Units depend on the shape alone, so results do not depend on the number of threads.
constexpr int64_t kBlockElements = 1 << 14;

struct Split {
  bool lined = false;
  int64_t lines_per_block = 1;
  // unit_elements: a whole unit's (the last may be shorter); elements: the tensor's.
  int64_t units = 0, unit_elements = 0, elements = 0;
};

static Split splitOf(const Rows& g) {
  Split s;
  s.elements = g.a * g.r * g.b;
  s.lined = g.b == 1 && g.r > 1;
  if (s.lined) {
    s.lines_per_block = std::max<int64_t>(1, kBlockElements / g.r);
    s.units = (g.a + s.lines_per_block - 1) / s.lines_per_block;
    s.unit_elements = s.lines_per_block * g.r;
  } else {
    s.units = g.count();
    s.unit_elements = g.a * g.b;
  }
  return s;
}

// Units [begin, end) of one tensor: a piece of work.
struct Piece {
  int tensor;
  int64_t begin, end;
};

// All tensors' units in pieces of about kBlockElements elements, so that one parallel loop covers the whole call
// (one dispatch to the thread pool per kernel, not one per tensor).
static std::vector<Piece> piecesOf(const std::vector<Split>& splits) {
  std::vector<Piece> pieces;
  for (size_t i = 0; i < splits.size(); ++i) {
    const int64_t per = std::max<int64_t>(1, kBlockElements / std::max<int64_t>(1, splits[i].unit_elements));
    for (int64_t u = 0; u < splits[i].units; u += per) pieces.push_back({static_cast<int>(i), u, std::min(splits[i].units, u + per)});
  }
  return pieces;
}

// Below this many elements in a call, the pieces run on the calling thread: such a pass is bound by memory
// bandwidth, which one core nearly saturates, and takes well under a millisecond, less than waking the intra-op
// threads and moving the data to their cores costs (measured in the MLP's training loop on this project's 2-core
// machines: the offsets pass 0.53 ms on one thread against 0.69 ms on two, the scale-add 0.23 against 0.33 ms;
// vectorized Adam over the MLP's 478K parameters, cold, 0.45 ms against 0.55 ms; a plain loop reading five and
// writing one such stream: 0.19–0.25 ms on one thread, 0.21–0.33 ms on two).
constexpr int64_t kParallelElements = 1 << 22;

// Calls fn(piece) for every piece: on TensorFlow's intra-op threads when the call is large.
template <typename Fn>
static void forPieces(OpKernelContext* ctx, const std::vector<Split>& splits, int64_t cost_per_element, Fn fn) {
  const std::vector<Piece> pieces = piecesOf(splits);
  auto work = [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) fn(pieces[p]);
  };
  int64_t elements = 0;
  for (const Split& s : splits) elements += s.elements;
  if (elements < kParallelElements) return work(0, pieces.size());
  auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
  tensorflow::Shard(workers->num_threads, workers->workers, pieces.size(), kBlockElements * cost_per_element, work);
}

// The tentative weight at i: p + u with the update fused in (the float sum a separate add would give), else p.
template <bool kUpdate>
static inline float tentativeAt(const float* __restrict p, const float* __restrict u, int64_t i) {
  return kUpdate ? p[i] + u[i] : p[i];
}

// The inputs and outputs of AnchorageRowOffsets for one tensor.
struct OffsetIO {
  const float *p, *u, *a, *g, *prev;
  float* o;
  // Lined tensors: partial row sums per block ([units, R] each); else the rows' sums in the joint vectors.
  double *pn, *pd;
  float *nt, *dt;
};

// Units [begin, end) of one tensor: offset o = tentative − a, Σ|o| and, with kGrad, Σ g ⊙ prev per row (in double,
// one fixed order per row).
template <bool kGrad, bool kUpdate>
ANCHORAGE_HOT static void offsetUnits(const Rows& g, const Split& s, const OffsetIO& io, int64_t begin, int64_t end) {
  const float* __restrict p = io.p;
  const float* __restrict u = io.u;
  const float* __restrict a = io.a;
  const float* __restrict gr = io.g;
  const float* __restrict prev = io.prev;
  float* __restrict o = io.o;
  if (s.lined) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t x0 = b * s.lines_per_block, x1 = std::min(g.a, x0 + s.lines_per_block);
      double* __restrict n = io.pn + b * g.r;
      double* __restrict d = kGrad ? io.pd + b * g.r : nullptr;
      std::fill(n, n + g.r, 0.0);
      if (kGrad) std::fill(d, d + g.r, 0.0);
      for (int64_t x = x0; x < x1; ++x) {
        const int64_t base = x * g.r;
        for (int64_t k = 0; k < g.r; ++k) {
          const float c = tentativeAt<kUpdate>(p, u, base + k) - a[base + k];
          o[base + k] = c;
          n[k] += static_cast<double>(std::fabs(c));
          if (kGrad) d[k] += static_cast<double>(gr[base + k] * prev[base + k]);
        }
      }
    }
    return;
  }
  for (int64_t row = begin; row < end; ++row) {
    double sn = 0.0, sd = 0.0;
    for (int64_t x = 0; x < g.a; ++x) {
      const int64_t at = (x * g.r + row) * g.b;
      for (int64_t y = 0; y < g.b; ++y) {
        const float c = tentativeAt<kUpdate>(p, u, at + y) - a[at + y];
        o[at + y] = c;
        sn += std::fabs(c);
        if (kGrad) sd += static_cast<double>(gr[at + y] * prev[at + y]);
      }
    }
    io.nt[row] = static_cast<float>(sn);
    io.dt[row] = static_cast<float>(sd);
  }
}

// Adam over elements [e0, e1) of one tensor; k: the coefficients [β1, 1−β1, β2, 1−β2, bc1, √bc2, eps]. The one
// Adam of the kernels (AnchorageAdam, and FTP's constraints in AnchorageRowScaleAdd). A function of its own, with
// restrict pointers, so that the compiler vectorizes it: division and square root are correctly rounded in vector
// registers too, so the vectors give the bits of the scalar ops.
ANCHORAGE_HOT static void adamRange(const float* __restrict g, const float* __restrict m, const float* __restrict v, float* __restrict m2,
                      float* __restrict v2, float* __restrict u, int64_t e0, int64_t e1, const float* k) {
  const float b1 = k[0], c1 = k[1], b2 = k[2], c2 = k[3], bc1 = k[4], bc2 = k[5], eps = k[6];
  for (int64_t e = e0; e < e1; ++e) {
    const float mm = m[e] * b1 + g[e] * c1;
    const float vv = v[e] * b2 + (g[e] * g[e]) * c2;
    m2[e] = mm;
    v2[e] = vv;
    u[e] = (mm / bc1) / (std::sqrt(vv) / bc2 + eps);
  }
}

// TensorFlow's Maximum and Minimum: NaN if either side is NaN.
static inline float maxNaN(float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : (a < b ? b : a); }
static inline float minNaN(float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : (b < a ? b : a); }

// Units [begin, end) of one tensor of AnchorageRowScaleAdd: out = a + f[row] · c (f: the tensor's rows).
ANCHORAGE_HOT static void scaleAddUnits(const Rows& g, const Split& s, const float* __restrict a, const float* __restrict c,
                          const float* __restrict f, float* __restrict out, int64_t begin, int64_t end) {
  if (s.lined) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t x0 = b * s.lines_per_block, x1 = std::min(g.a, x0 + s.lines_per_block);
      const float* __restrict fr = f;
      for (int64_t x = x0; x < x1; ++x) {
        const int64_t base = x * g.r;
        for (int64_t k = 0; k < g.r; ++k) out[base + k] = a[base + k] + c[base + k] * fr[k];
      }
    }
    return;
  }
  for (int64_t row = begin; row < end; ++row) {
    const float fr = f[row];
    for (int64_t x = 0; x < g.a; ++x) {
      const int64_t at = (x * g.r + row) * g.b;
      for (int64_t y = 0; y < g.b; ++y) out[at + y] = a[at + y] + c[at + y] * fr;
    }
  }
}

class RowOffsetsOp : public OpKernel {
 public:
  explicit RowOffsetsOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("row_axes", &axes_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("with_grad", &with_grad_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("with_update", &with_update_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("pad", &pad_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("eps", &eps_));
  }

  void Compute(OpKernelContext* ctx) override {
    tensorflow::OpInputList ps, anchors, grads, prevs, updates;
    OP_REQUIRES_OK(ctx, ctx->input_list("tentative", &ps));
    OP_REQUIRES_OK(ctx, ctx->input_list("anchor", &anchors));
    OP_REQUIRES_OK(ctx, ctx->input_list("grad", &grads));
    OP_REQUIRES_OK(ctx, ctx->input_list("prev", &prevs));
    OP_REQUIRES_OK(ctx, ctx->input_list("update", &updates));
    const Tensor& weights = ctx->input(5 * ps.size());
    std::vector<Rows> rows;
    std::vector<int64_t> starts;
    layoutOf(ctx, ps, axes_, &rows, &starts);
    if (!ctx->status().ok()) return;
    for (int i = 0; i < ps.size(); ++i) {
      OP_REQUIRES(ctx, ps[i].shape() == anchors[i].shape(), tensorflow::errors::InvalidArgument("tentative and anchor ", i, " differ in shape"));
      if (with_grad_) {
        OP_REQUIRES(ctx, ps[i].shape() == grads[i].shape() && ps[i].shape() == prevs[i].shape(),
                    tensorflow::errors::InvalidArgument("gradient or previous offset ", i, " differ in shape from the tensor"));
      }
      if (with_update_) {
        OP_REQUIRES(ctx, ps[i].shape() == updates[i].shape(), tensorflow::errors::InvalidArgument("update ", i, " differs in shape from the parameter"));
      }
    }
    const int64_t total = starts.back() + pad_;
    if (with_grad_) {
      OP_REQUIRES(ctx, weights.NumElements() >= starts.back(),
                  tensorflow::errors::InvalidArgument("expected ", starts.back(), " row weights, got ", weights.NumElements()));
    }
    tensorflow::OpOutputList offsets;
    OP_REQUIRES_OK(ctx, ctx->output_list("offset", &offsets));
    Tensor *norms = nullptr, *dots = nullptr, *scale = nullptr, *part_max = nullptr, *part_dots = nullptr;
    const int n = ps.size();
    const int64_t parts = static_cast<int64_t>(rows.size());
    OP_REQUIRES_OK(ctx, ctx->allocate_output(n, TensorShape({total}), &norms));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(n + 1, TensorShape({total}), &dots));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(n + 2, TensorShape({total}), &scale));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(n + 3, TensorShape({parts}), &part_max));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(n + 4, TensorShape({parts}), &part_dots));
    float* nv = norms->flat<float>().data();
    float* dv = dots->flat<float>().data();
    std::fill(nv + starts.back(), nv + total, 0.0f);
    std::fill(dv + starts.back(), dv + total, 0.0f);
    std::vector<Split> splits;
    std::vector<OffsetIO> io(n);
    int64_t partials = 0;
    for (int i = 0; i < n; ++i) {
      splits.push_back(splitOf(rows[i]));
      if (splits[i].lined) partials += splits[i].units * rows[i].r;
    }
    std::vector<double> pn(partials), pd(with_grad_ ? partials : 0);
    int64_t at = 0;
    for (int i = 0; i < n; ++i) {
      Tensor* offset = nullptr;
      OP_REQUIRES_OK(ctx, offsets.allocate(i, ps[i].shape(), &offset));
      io[i] = {ps[i].flat<float>().data(), with_update_ ? updates[i].flat<float>().data() : nullptr, anchors[i].flat<float>().data(),
               with_grad_ ? grads[i].flat<float>().data() : nullptr, with_grad_ ? prevs[i].flat<float>().data() : nullptr,
               offset->flat<float>().data(), pn.data() + at, with_grad_ ? pd.data() + at : nullptr, nv + starts[i], dv + starts[i]};
      if (splits[i].lined) at += splits[i].units * rows[i].r;
    }
    forPieces(ctx, splits, 6, [&](const Piece& q) {
      const Rows& g = rows[q.tensor];
      const Split& s = splits[q.tensor];
      if (with_grad_ && with_update_) offsetUnits<true, true>(g, s, io[q.tensor], q.begin, q.end);
      else if (with_grad_) offsetUnits<true, false>(g, s, io[q.tensor], q.begin, q.end);
      else if (with_update_) offsetUnits<false, true>(g, s, io[q.tensor], q.begin, q.end);
      else offsetUnits<false, false>(g, s, io[q.tensor], q.begin, q.end);
    });
    // Lined tensors' rows: their blocks' partial sums, in block order.
    for (int i = 0; i < n; ++i) {
      const Rows& g = rows[i];
      const Split& s = splits[i];
      if (!s.lined) continue;
      for (int64_t k = 0; k < g.r; ++k) {
        double sn = 0.0, sd = 0.0;
        for (int64_t b = 0; b < s.units; ++b) {
          sn += io[i].pn[b * g.r + k];
          if (with_grad_) sd += io[i].pd[b * g.r + k];
        }
        io[i].nt[k] = static_cast<float>(sn);
        io[i].dt[k] = static_cast<float>(sd);
      }
    }
    // The row vectors are small (one entry per output unit): the per-part summaries run on this thread.
    // The same float arithmetic as the op path: norm + eps, then its reciprocal.
    float* sv = scale->flat<float>().data();
    for (int64_t r = 0; r < total; ++r) sv[r] = 1.0f / (nv[r] + eps_);
    float* mv = part_max->flat<float>().data();
    float* pdv = part_dots->flat<float>().data();
    const float* wv = with_grad_ ? weights.flat<float>().data() : nullptr;
    for (int i = 0; i < n; ++i) {
      const int64_t first = starts[i];
      float most = nv[first] + eps_;
      double sum = 0.0;
      for (int64_t r = first; r < first + rows[i].r; ++r) {
        most = std::max(most, nv[r] + eps_);
        if (wv) sum += static_cast<double>(dv[r] * wv[r]);
      }
      mv[i] = most;
      pdv[i] = static_cast<float>(sum);
    }
  }

 private:
  bool with_grad_ = false, with_update_ = false;
  std::vector<int32_t> axes_;
  int pad_ = 0;
  float eps_ = 0.0f;
};

class RowScaleAddOp : public OpKernel {
 public:
  explicit RowScaleAddOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("row_axes", &axes_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("by_part", &by_part_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("update_parts", &update_parts_));
    OP_REQUIRES(ctx, by_part_ || !update_parts_, tensorflow::errors::InvalidArgument("update_parts needs by_part"));
  }

  void Compute(OpKernelContext* ctx) override {
    tensorflow::OpInputList anchors, offsets;
    OP_REQUIRES_OK(ctx, ctx->input_list("anchor", &anchors));
    OP_REQUIRES_OK(ctx, ctx->input_list("offset", &offsets));
    const Tensor& factors = ctx->input(2 * offsets.size());
    std::vector<Rows> rows;
    std::vector<int64_t> starts;
    layoutOf(ctx, offsets, axes_, &rows, &starts);
    if (!ctx->status().ok()) return;
    // Trailing entries past the tensors' rows (FTP's padding row) are ignored.
    OP_REQUIRES(ctx, factors.NumElements() >= starts.back(),
                tensorflow::errors::InvalidArgument("expected ", starts.back(), " row factors, got ", factors.NumElements()));
    tensorflow::OpOutputList outs;
    OP_REQUIRES_OK(ctx, ctx->output_list("out", &outs));
    const float* fv = factors.flat<float>().data();
    std::vector<float> byPart;
    const int at = 2 * offsets.size() + 1;  // part_values, then the update's inputs
    const int64_t parts = static_cast<int64_t>(rows.size());
    Tensor *values_out = nullptr, *m_out = nullptr, *v_out = nullptr;
    const TensorShape updated({update_parts_ ? parts : 0});
    OP_REQUIRES_OK(ctx, ctx->allocate_output(offsets.size(), updated, &values_out));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(offsets.size() + 1, updated, &m_out));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(offsets.size() + 2, updated, &v_out));
    if (by_part_) {
      const Tensor& values = ctx->input(at);
      OP_REQUIRES(ctx, values.NumElements() == parts, tensorflow::errors::InvalidArgument("expected ", parts, " part values, got ", values.NumElements()));
      const float* pv = values.flat<float>().data();
      if (update_parts_) {
        const char* names[] = {"part_grad", "part_ceiling", "part_m", "part_v"};
        for (int j = 0; j < 4; ++j) {
          OP_REQUIRES(ctx, ctx->input(at + 1 + j).NumElements() == parts,
                      tensorflow::errors::InvalidArgument("expected ", parts, " values in ", names[j], ", got ", ctx->input(at + 1 + j).NumElements()));
        }
        const Tensor& coefficients = ctx->input(at + 5);
        OP_REQUIRES(ctx, coefficients.NumElements() == 10, tensorflow::errors::InvalidArgument("expected 10 part coefficients, got ", coefficients.NumElements()));
        const float* k = coefficients.flat<float>().data();
        const float lr = k[7], lowest = k[8], anneal = k[9];
        const float* grad = ctx->input(at + 1).flat<float>().data();
        const float* ceiling = ctx->input(at + 2).flat<float>().data();
        std::vector<float> g(parts), u(parts);
        // tf.where(g > 0, g · k, g)
        for (int64_t j = 0; j < parts; ++j) g[j] = grad[j] > 0.0f ? grad[j] * anneal : grad[j];
        adamRange(g.data(), ctx->input(at + 3).flat<float>().data(), ctx->input(at + 4).flat<float>().data(), m_out->flat<float>().data(),
                  v_out->flat<float>().data(), u.data(), 0, parts, k);
        float* next = values_out->flat<float>().data();
        for (int64_t j = 0; j < parts; ++j) next[j] = minNaN(maxNaN(pv[j] - u[j] * lr, lowest), ceiling[j]);
        pv = next;
      }
      byPart.resize(starts.back());
      for (size_t i = 0; i < rows.size(); ++i) {
        for (int64_t row = starts[i]; row < starts[i] + rows[i].r; ++row) byPart[row] = std::min(std::max(pv[i] * fv[row], 0.0f), 1.0f);
      }
      fv = byPart.data();
    }
    const int n = offsets.size();
    std::vector<Split> splits;
    std::vector<const float*> av(n), cv(n);
    std::vector<float*> ov(n);
    for (int i = 0; i < n; ++i) {
      OP_REQUIRES(ctx, anchors[i].shape() == offsets[i].shape(), tensorflow::errors::InvalidArgument("anchor and offset ", i, " differ in shape"));
      Tensor* out = nullptr;
      OP_REQUIRES_OK(ctx, outs.allocate(i, offsets[i].shape(), &out));
      splits.push_back(splitOf(rows[i]));
      av[i] = anchors[i].flat<float>().data();
      cv[i] = offsets[i].flat<float>().data();
      ov[i] = out->flat<float>().data();
    }
    forPieces(ctx, splits, 3, [&](const Piece& q) {
      scaleAddUnits(rows[q.tensor], splits[q.tensor], av[q.tensor], cv[q.tensor], fv + starts[q.tensor], ov[q.tensor], q.begin, q.end);
    });
  }

 private:
  bool by_part_ = false, update_parts_ = false;
  std::vector<int32_t> axes_;
};

// Elementwise work over a list of tensors: units of kBlockElements consecutive elements.
static std::vector<Split> blocksOf(const tensorflow::OpInputList& xs) {
  std::vector<Split> splits(xs.size());
  for (int i = 0; i < xs.size(); ++i) {
    const int64_t len = xs[i].NumElements();
    splits[i].units = (len + kBlockElements - 1) / kBlockElements;
    splits[i].unit_elements = kBlockElements;
    splits[i].elements = len;
  }
  return splits;
}

// Every list the same length and each tensor the shape of the first list's.
static tensorflow::Status sameShapes(const std::vector<const tensorflow::OpInputList*>& lists) {
  for (const auto* l : lists)
    for (int i = 0; i < l->size(); ++i)
      if ((*l)[i].shape() != (*lists[0])[i].shape())
        return tensorflow::errors::InvalidArgument("tensor ", i, " differs in shape between the lists");
  return tensorflow::OkStatus();
}

// Outputs shaped as `like`, their data pointers in `out`.
static tensorflow::Status allocateLike(OpKernelContext* ctx, const tensorflow::OpInputList& like,
                                       std::vector<float*>& out) {
  tensorflow::OpOutputList outs;
  TF_RETURN_IF_ERROR(ctx->output_list("out", &outs));
  out.resize(like.size());
  for (int i = 0; i < like.size(); ++i) {
    Tensor* t = nullptr;
    TF_RETURN_IF_ERROR(outs.allocate(i, like[i].shape(), &t));
    out[i] = t->flat<float>().data();
  }
  return tensorflow::OkStatus();
}

class AdamOp : public OpKernel {
 public:
  explicit AdamOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    tensorflow::OpInputList gs, ms, vs;
    OP_REQUIRES_OK(ctx, ctx->input_list("grad", &gs));
    OP_REQUIRES_OK(ctx, ctx->input_list("m", &ms));
    OP_REQUIRES_OK(ctx, ctx->input_list("v", &vs));
    const int n = gs.size();
    const Tensor& coefficients = ctx->input(3 * n);
    OP_REQUIRES(ctx, coefficients.NumElements() == 7, tensorflow::errors::InvalidArgument("expected 7 coefficients, got ", coefficients.NumElements()));
    const float* k = coefficients.flat<float>().data();
    const std::vector<Split> splits = blocksOf(gs);
    std::vector<const float*> gv(n), mv(n), vv(n);
    std::vector<float*> mo(n), vo(n), uo(n);
    tensorflow::OpOutputList m_out, v_out, u_out;
    OP_REQUIRES_OK(ctx, ctx->output_list("m_out", &m_out));
    OP_REQUIRES_OK(ctx, ctx->output_list("v_out", &v_out));
    OP_REQUIRES_OK(ctx, ctx->output_list("update", &u_out));
    for (int i = 0; i < n; ++i) {
      OP_REQUIRES(ctx, ms[i].shape() == gs[i].shape() && vs[i].shape() == gs[i].shape(),
                  tensorflow::errors::InvalidArgument("moments ", i, " differ in shape from the update"));
      Tensor *mt = nullptr, *vt = nullptr, *ut = nullptr;
      OP_REQUIRES_OK(ctx, m_out.allocate(i, gs[i].shape(), &mt));
      OP_REQUIRES_OK(ctx, v_out.allocate(i, gs[i].shape(), &vt));
      OP_REQUIRES_OK(ctx, u_out.allocate(i, gs[i].shape(), &ut));
      gv[i] = gs[i].flat<float>().data();
      mv[i] = ms[i].flat<float>().data();
      vv[i] = vs[i].flat<float>().data();
      mo[i] = mt->flat<float>().data();
      vo[i] = vt->flat<float>().data();
      uo[i] = ut->flat<float>().data();
    }
    forPieces(ctx, splits, 8, [&](const Piece& q) {
      const int i = q.tensor;
      adamRange(gv[i], mv[i], vv[i], mo[i], vo[i], uo[i], q.begin * kBlockElements, std::min(gs[i].NumElements(), q.end * kBlockElements), k);
    });
  }
};

ANCHORAGE_HOT static void pullRange(const float* __restrict g, const float* __restrict p, const float* __restrict a,
                                    float* __restrict out, float alpha, int64_t e0, int64_t e1) {
  for (int64_t e = e0; e < e1; ++e) out[e] = g[e] + (p[e] - a[e]) * alpha;
}

class AnchorPullOp : public OpKernel {
 public:
  explicit AnchorPullOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    tensorflow::OpInputList gs, ps, as;
    OP_REQUIRES_OK(ctx, ctx->input_list("grad", &gs));
    OP_REQUIRES_OK(ctx, ctx->input_list("param", &ps));
    OP_REQUIRES_OK(ctx, ctx->input_list("anchor", &as));
    OP_REQUIRES_OK(ctx, sameShapes({&gs, &ps, &as}));
    const float alpha = ctx->input(3 * gs.size()).flat<float>()(0);
    std::vector<float*> ov;
    OP_REQUIRES_OK(ctx, allocateLike(ctx, gs, ov));
    const std::vector<Split> splits = blocksOf(gs);
    forPieces(ctx, splits, 4, [&](const Piece& q) {
      const int i = q.tensor;
      pullRange(gs[i].flat<float>().data(), ps[i].flat<float>().data(), as[i].flat<float>().data(), ov[i], alpha,
                q.begin * kBlockElements, std::min(gs[i].NumElements(), q.end * kBlockElements));
    });
  }
};

// Σ c², Σ c_prev², Σ g ⊙ c_prev over elements [e0, e1), c = t − a and c_prev = p − a rounded to float as the ops
// round them.
ANCHORAGE_HOT static void spdSums(const float* __restrict t, const float* __restrict p, const float* __restrict a,
                                  const float* __restrict g, int64_t e0, int64_t e1, double* sums) {
  double sc = 0.0, sp = 0.0, sd = 0.0;
  for (int64_t e = e0; e < e1; ++e) {
    const float c = t[e] - a[e];
    const float cp = p[e] - a[e];
    sc += static_cast<double>(c) * c;
    sp += static_cast<double>(cp) * cp;
    sd += static_cast<double>(g[e] * cp);
  }
  sums[0] = sc;
  sums[1] = sp;
  sums[2] = sd;
}

ANCHORAGE_HOT static void spdApply(const float* __restrict t, const float* __restrict a, float* __restrict out,
                                   float f, int64_t e0, int64_t e1) {
  for (int64_t e = e0; e < e1; ++e) out[e] = t[e] - f * (t[e] - a[e]);
}

class SpdOp : public OpKernel {
 public:
  explicit SpdOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    tensorflow::OpInputList ts, ps, as, gs;
    OP_REQUIRES_OK(ctx, ctx->input_list("tentative", &ts));
    OP_REQUIRES_OK(ctx, ctx->input_list("param", &ps));
    OP_REQUIRES_OK(ctx, ctx->input_list("anchor", &as));
    OP_REQUIRES_OK(ctx, ctx->input_list("grad", &gs));
    OP_REQUIRES_OK(ctx, sameShapes({&ts, &ps, &as, &gs}));
    const int n = ts.size();
    const float lambda = ctx->input(4 * n).flat<float>()(0);
    const std::vector<Split> splits = blocksOf(ts);
    // Each block's three sums, blocks of a tensor end to end; added per tensor in block order.
    std::vector<int64_t> first(n + 1, 0);
    for (int i = 0; i < n; ++i) first[i + 1] = first[i] + splits[i].units;
    std::vector<double> sums(3 * first[n], 0.0);
    auto range = [&](const Piece& q, int64_t b) {
      return std::make_pair(b * kBlockElements, std::min(ts[q.tensor].NumElements(), (b + 1) * kBlockElements));
    };
    forPieces(ctx, splits, 4, [&](const Piece& q) {
      const int i = q.tensor;
      for (int64_t b = q.begin; b < q.end; ++b) {
        const auto [e0, e1] = range(q, b);
        spdSums(ts[i].flat<float>().data(), ps[i].flat<float>().data(), as[i].flat<float>().data(),
                gs[i].flat<float>().data(), e0, e1, &sums[3 * (first[i] + b)]);
      }
    });
    // The pull per tensor, in float as the ops compute it from the norms.
    std::vector<float> pull(n);
    for (int i = 0; i < n; ++i) {
      double sc = 0.0, sp = 0.0, sd = 0.0;
      for (int64_t b = first[i]; b < first[i + 1]; ++b) {
        sc += sums[3 * b];
        sp += sums[3 * b + 1];
        sd += sums[3 * b + 2];
      }
      const float d_new = std::sqrt(static_cast<float>(sc));
      const float d_prev = std::sqrt(static_cast<float>(sp));
      const float ratio = minNaN(maxNaN((d_new - d_prev) / (d_new + 1e-12f), 0.0f), 1.0f);
      const float selected = static_cast<float>(sd) > 0.0f ? 1.0f : 0.0f;
      pull[i] = ratio * selected * lambda;
    }
    std::vector<float*> ov;
    OP_REQUIRES_OK(ctx, allocateLike(ctx, ts, ov));
    forPieces(ctx, splits, 3, [&](const Piece& q) {
      const int i = q.tensor;
      spdApply(ts[i].flat<float>().data(), as[i].flat<float>().data(), ov[i], pull[i], q.begin * kBlockElements,
               std::min(ts[i].NumElements(), q.end * kBlockElements));
    });
  }
};

ANCHORAGE_HOT static void scaleRange(const float* __restrict x, float* __restrict out, float scale, int64_t e0,
                                     int64_t e1) {
  for (int64_t e = e0; e < e1; ++e) out[e] = x[e] * scale;
}

ANCHORAGE_HOT static void addRange(const float* __restrict a, const float* __restrict b, float* __restrict out,
                                   int64_t e0, int64_t e1) {
  for (int64_t e = e0; e < e1; ++e) out[e] = a[e] + b[e];
}

class ScaleOp : public OpKernel {
 public:
  explicit ScaleOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    tensorflow::OpInputList xs;
    OP_REQUIRES_OK(ctx, ctx->input_list("x", &xs));
    const float scale = ctx->input(xs.size()).flat<float>()(0);
    std::vector<float*> ov;
    OP_REQUIRES_OK(ctx, allocateLike(ctx, xs, ov));
    forPieces(ctx, blocksOf(xs), 2, [&](const Piece& q) {
      const int i = q.tensor;
      scaleRange(xs[i].flat<float>().data(), ov[i], scale, q.begin * kBlockElements,
                 std::min(xs[i].NumElements(), q.end * kBlockElements));
    });
  }
};

class AddOp : public OpKernel {
 public:
  explicit AddOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    tensorflow::OpInputList as, bs;
    OP_REQUIRES_OK(ctx, ctx->input_list("a", &as));
    OP_REQUIRES_OK(ctx, ctx->input_list("b", &bs));
    OP_REQUIRES_OK(ctx, sameShapes({&as, &bs}));
    std::vector<float*> ov;
    OP_REQUIRES_OK(ctx, allocateLike(ctx, as, ov));
    forPieces(ctx, blocksOf(as), 3, [&](const Piece& q) {
      const int i = q.tensor;
      addRange(as[i].flat<float>().data(), bs[i].flat<float>().data(), ov[i], q.begin * kBlockElements,
               std::min(as[i].NumElements(), q.end * kBlockElements));
    });
  }
};

REGISTER_KERNEL_BUILDER(Name("AnchorageAdam").Device(tensorflow::DEVICE_CPU), AdamOp);
REGISTER_KERNEL_BUILDER(Name("AnchorageRowOffsets").Device(tensorflow::DEVICE_CPU), RowOffsetsOp);
REGISTER_KERNEL_BUILDER(Name("AnchorageRowScaleAdd").Device(tensorflow::DEVICE_CPU), RowScaleAddOp);
REGISTER_KERNEL_BUILDER(Name("AnchorageAnchorPull").Device(tensorflow::DEVICE_CPU), AnchorPullOp);
REGISTER_KERNEL_BUILDER(Name("AnchorageSpd").Device(tensorflow::DEVICE_CPU), SpdOp);
REGISTER_KERNEL_BUILDER(Name("AnchorageScale").Device(tensorflow::DEVICE_CPU), ScaleOp);
REGISTER_KERNEL_BUILDER(Name("AnchorageAdd").Device(tensorflow::DEVICE_CPU), AddOp);

}  // namespace anchorage

// The ops registered above and in byte_rows.cc when this library was loaded; the addon exports their names and the version of their
// signatures (src/tensor/native-kernels.ts's KERNELS_ABI: raise both when an op's inputs, outputs or attrs change).
NAPI_MODULE_INIT() {
  const char* ops[] = {"AnchorageRowOffsets", "AnchorageRowScaleAdd", "AnchorageAdam",
                       "AnchorageAnchorPull", "AnchorageSpd",         "AnchorageScale",
                       "AnchorageAdd",        "AnchorageByteRows"};
  const uint32_t count = sizeof(ops) / sizeof(ops[0]);
  napi_value names;
  napi_create_array_with_length(env, count, &names);
  for (uint32_t i = 0; i < count; ++i) {
    napi_value s;
    napi_create_string_utf8(env, ops[i], NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, names, i, s);
  }
  napi_value result;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "ops", names);
  napi_value abi;
  napi_create_int32(env, 5, &abi);
  napi_set_named_property(env, result, "abi", abi);
  return result;
}
