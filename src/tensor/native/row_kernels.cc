// Fused row kernels for the projection optimizers on native TensorFlow.
//
// tfjs-node runs one TensorFlow kernel per op with no fusion, so FTP's
// projection — offset, |offset|, row sums, g ⊙ c_prev, its row sums, the
// row-wise scale and the add of the anchor — was seven full passes over every
// large weight matrix, each paying for a fresh output buffer. These two kernels
// do the same arithmetic in two passes: one that reads the parameters and the
// base rule's updates (or the tentative weights), the anchor, the gradient and
// the previous offset and writes the offset plus two row vectors, and one that
// writes anchor + factor[row] · offset. Inside an optimizer step their inputs
// come from memory, not cache: they are bound by memory bandwidth, so every
// pass over a weight matrix streams through contiguous memory.
//
// A "row" follows src/optim/rows.ts: the slice of a tensor at one index of its
// row axis, with runs trained together stacked on a leading axis and reduced
// on their own (row index = run × rows + row). Rows are summed in double in an
// order fixed by the shape alone, so results do not depend on the number of
// threads.
//
// Built by `anchorage setup native` against the TensorFlow the tfjs-node
// binding uses, and loaded by src/tensor/native-kernels.ts as a Node addon:
// loading it registers the ops, which the binding then runs by name.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/util/work_sharder.h"

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
// (a tensor, or one run's slice of it: part = tensor × runs + run) needs next,
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
    .Attr("stacked: bool")
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
REGISTER_OP("AnchorageRowScaleAdd")
    .Input("anchor: N * float")
    .Input("offset: N * float")
    .Input("factors: float")
    .Input("part_values: float")
    .Attr("N: int >= 1")
    .Attr("stacked: bool")
    .Attr("row_axes: list(int)")
    .Attr("by_part: bool")
    .Output("out: N * float")
    .SetShapeFn(tensorflow::shape_inference::UnknownShape);

// A tensor seen as [runs, A, R, B]: rows are (run, r), summed over A and B.
struct Rows {
  int64_t runs = 1, a = 1, r = 1, b = 1;
  int64_t count() const { return runs * r; }
};

static tensorflow::Status rowsOf(const TensorShape& shape, bool stacked, int row_axis, Rows* g) {
  *g = Rows();
  const int rank = shape.dims();
  const int lead = stacked ? 1 : 0;
  if (stacked && rank > 0) g->runs = shape.dim_size(0);
  if (rank - lead <= 1) {
    // A vector (a bias) or a scalar is one row (per run).
    for (int i = lead; i < rank; ++i) g->b *= shape.dim_size(i);
    return tensorflow::OkStatus();
  }
  if (row_axis < lead || row_axis >= rank) {
    return tensorflow::errors::InvalidArgument("row_axis ", row_axis, " out of range for a tensor of rank ", rank);
  }
  for (int i = lead; i < row_axis; ++i) g->a *= shape.dim_size(i);
  g->r = shape.dim_size(row_axis);
  for (int i = row_axis + 1; i < rank; ++i) g->b *= shape.dim_size(i);
  return tensorflow::OkStatus();
}

// The row geometry of each tensor of an input list, and where its rows start in the joint vector.
static void layoutOf(OpKernelContext* ctx, const tensorflow::OpInputList& xs, bool stacked, const std::vector<int32_t>& axes,
                     std::vector<Rows>* rows, std::vector<int64_t>* starts) {
  OP_REQUIRES(ctx, axes.size() == static_cast<size_t>(xs.size()),
              tensorflow::errors::InvalidArgument("row_axes has ", axes.size(), " entries for ", xs.size(), " tensors"));
  int64_t at = 0;
  for (int i = 0; i < xs.size(); ++i) {
    Rows g;
    OP_REQUIRES_OK(ctx, rowsOf(xs[i].shape(), stacked, axes[i], &g));
    rows->push_back(g);
    starts->push_back(at);
    at += g.count();
  }
  starts->push_back(at);
}

// Calls fn(first unit, end unit) over `units` units of work split among TensorFlow's intra-op threads.
template <typename Fn>
static void shard(OpKernelContext* ctx, int64_t units, int64_t cost_per_unit, Fn fn) {
  auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
  tensorflow::Shard(workers->num_threads, workers->workers, units, cost_per_unit, fn);
}

// Rows innermost (B = 1: a dense [in, out] or conv [kh, kw, in, out] kernel) are split among threads by lines —
// runs × A lines of R contiguous elements — in blocks of this many elements, so that each thread streams through
// contiguous memory (split by rows instead, every thread would read a strided part of every line, at a fraction of
// the memory bandwidth). Each block sums its lines into its own partial row sums; the partials are then added in
// block order. The blocks depend on the shape only, so results do not depend on the number of threads.
constexpr int64_t kBlockElements = 1 << 14;

// The tentative weight at i: p + u with the update fused in (the float sum a separate add would give), else p.
template <bool kUpdate>
static inline float tentativeAt(const float* __restrict p, const float* __restrict u, int64_t i) {
  return kUpdate ? p[i] + u[i] : p[i];
}

// One tensor of AnchorageRowOffsets: offset o = tentative − a, each row's Σ|o| into nt and, with kGrad, its
// Σ g ⊙ prev into dt (row index = run × R + r; sums in double, one fixed order per row).
template <bool kGrad, bool kUpdate>
static void offsetsOf(OpKernelContext* ctx, const Rows& g, const float* __restrict p, const float* __restrict u,
                      const float* __restrict a, const float* __restrict gr, const float* __restrict prev, float* __restrict o,
                      float* __restrict nt, float* __restrict dt) {
  if (g.b == 1 && g.r > 1) {
    const int64_t lines_per_block = std::max<int64_t>(1, kBlockElements / g.r);
    const int64_t blocks_per_run = (g.a + lines_per_block - 1) / lines_per_block;
    const int64_t blocks = g.runs * blocks_per_run;
    std::vector<double> pn(blocks * g.r, 0.0), pd(kGrad ? blocks * g.r : 0, 0.0);
    shard(ctx, blocks, lines_per_block * g.r * 6, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t run = b / blocks_per_run;
        const int64_t x0 = (b % blocks_per_run) * lines_per_block, x1 = std::min(g.a, x0 + lines_per_block);
        double* __restrict n = pn.data() + b * g.r;
        double* __restrict d = kGrad ? pd.data() + b * g.r : nullptr;
        for (int64_t x = x0; x < x1; ++x) {
          const int64_t base = (run * g.a + x) * g.r;
          for (int64_t k = 0; k < g.r; ++k) {
            const float c = tentativeAt<kUpdate>(p, u, base + k) - a[base + k];
            o[base + k] = c;
            n[k] += static_cast<double>(std::fabs(c));
            if (kGrad) d[k] += static_cast<double>(gr[base + k] * prev[base + k]);
          }
        }
      }
    });
    for (int64_t run = 0; run < g.runs; ++run) {
      for (int64_t k = 0; k < g.r; ++k) {
        double sn = 0.0, sd = 0.0;
        for (int64_t b = run * blocks_per_run; b < (run + 1) * blocks_per_run; ++b) {
          sn += pn[b * g.r + k];
          if (kGrad) sd += pd[b * g.r + k];
        }
        nt[run * g.r + k] = static_cast<float>(sn);
        dt[run * g.r + k] = static_cast<float>(sd);
      }
    }
    return;
  }
  // Rows of B contiguous elements (a dense [out, in] kernel, a bias) or on a middle axis: one row per unit.
  shard(ctx, g.count(), g.a * g.b * 6, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t run = row / g.r, r = row % g.r;
      double sn = 0.0, sd = 0.0;
      for (int64_t x = 0; x < g.a; ++x) {
        const int64_t at = ((run * g.a + x) * g.r + r) * g.b;
        for (int64_t y = 0; y < g.b; ++y) {
          const float c = tentativeAt<kUpdate>(p, u, at + y) - a[at + y];
          o[at + y] = c;
          sn += std::fabs(c);
          if (kGrad) sd += static_cast<double>(gr[at + y] * prev[at + y]);
        }
      }
      nt[row] = static_cast<float>(sn);
      dt[row] = static_cast<float>(sd);
    }
  });
}

// One tensor of AnchorageRowScaleAdd: out = a + f[row] · c (f: the tensor's rows, run-major).
static void scaleAddOf(OpKernelContext* ctx, const Rows& g, const float* __restrict a, const float* __restrict c,
                       const float* __restrict f, float* __restrict out) {
  if (g.b == 1 && g.r > 1) {
    // Lines of R contiguous elements, split among threads as they lie in memory.
    shard(ctx, g.runs * g.a, g.r * 3, [&](int64_t l0, int64_t l1) {
      for (int64_t line = l0; line < l1; ++line) {
        const float* __restrict fr = f + (line / g.a) * g.r;
        const int64_t base = line * g.r;
        for (int64_t k = 0; k < g.r; ++k) out[base + k] = a[base + k] + c[base + k] * fr[k];
      }
    });
    return;
  }
  shard(ctx, g.count(), g.a * g.b * 3, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t run = row / g.r, r = row % g.r;
      const float fr = f[row];
      for (int64_t x = 0; x < g.a; ++x) {
        const int64_t at = ((run * g.a + x) * g.r + r) * g.b;
        for (int64_t y = 0; y < g.b; ++y) out[at + y] = a[at + y] + c[at + y] * fr;
      }
    }
  });
}

class RowOffsetsOp : public OpKernel {
 public:
  explicit RowOffsetsOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("stacked", &stacked_));
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
    layoutOf(ctx, ps, stacked_, axes_, &rows, &starts);
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
    int64_t parts = 0;
    for (const Rows& g : rows) parts += g.runs;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(n, TensorShape({total}), &norms));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(n + 1, TensorShape({total}), &dots));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(n + 2, TensorShape({total}), &scale));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(n + 3, TensorShape({parts}), &part_max));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(n + 4, TensorShape({parts}), &part_dots));
    float* nv = norms->flat<float>().data();
    float* dv = dots->flat<float>().data();
    std::fill(nv + starts.back(), nv + total, 0.0f);
    std::fill(dv + starts.back(), dv + total, 0.0f);
    for (int i = 0; i < ps.size(); ++i) {
      Tensor* offset = nullptr;
      OP_REQUIRES_OK(ctx, offsets.allocate(i, ps[i].shape(), &offset));
      const float* pv = ps[i].flat<float>().data();
      const float* uv = with_update_ ? updates[i].flat<float>().data() : nullptr;
      const float* av = anchors[i].flat<float>().data();
      const float* gv = with_grad_ ? grads[i].flat<float>().data() : nullptr;
      const float* cv = with_grad_ ? prevs[i].flat<float>().data() : nullptr;
      float* ov = offset->flat<float>().data();
      float* nt = nv + starts[i];
      float* dt = dv + starts[i];
      if (with_grad_ && with_update_) offsetsOf<true, true>(ctx, rows[i], pv, uv, av, gv, cv, ov, nt, dt);
      else if (with_grad_) offsetsOf<true, false>(ctx, rows[i], pv, uv, av, gv, cv, ov, nt, dt);
      else if (with_update_) offsetsOf<false, true>(ctx, rows[i], pv, uv, av, gv, cv, ov, nt, dt);
      else offsetsOf<false, false>(ctx, rows[i], pv, uv, av, gv, cv, ov, nt, dt);
    }
    // The row vectors are small (one entry per output unit): the per-part summaries run on this thread.
    // The same float arithmetic as the op path: norm + eps, then its reciprocal.
    float* sv = scale->flat<float>().data();
    for (int64_t r = 0; r < total; ++r) sv[r] = 1.0f / (nv[r] + eps_);
    float* mv = part_max->flat<float>().data();
    float* pdv = part_dots->flat<float>().data();
    const float* wv = with_grad_ ? weights.flat<float>().data() : nullptr;
    int64_t part = 0;
    for (int i = 0; i < n; ++i) {
      const Rows& g = rows[i];
      for (int64_t run = 0; run < g.runs; ++run, ++part) {
        const int64_t first = starts[i] + run * g.r;
        float most = nv[first] + eps_;
        double sum = 0.0;
        for (int64_t r = first; r < first + g.r; ++r) {
          most = std::max(most, nv[r] + eps_);
          if (wv) sum += static_cast<double>(dv[r] * wv[r]);
        }
        mv[part] = most;
        pdv[part] = static_cast<float>(sum);
      }
    }
  }

 private:
  bool stacked_ = false, with_grad_ = false, with_update_ = false;
  std::vector<int32_t> axes_;
  int pad_ = 0;
  float eps_ = 0.0f;
};

class RowScaleAddOp : public OpKernel {
 public:
  explicit RowScaleAddOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("stacked", &stacked_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("row_axes", &axes_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("by_part", &by_part_));
  }

  void Compute(OpKernelContext* ctx) override {
    tensorflow::OpInputList anchors, offsets;
    OP_REQUIRES_OK(ctx, ctx->input_list("anchor", &anchors));
    OP_REQUIRES_OK(ctx, ctx->input_list("offset", &offsets));
    const Tensor& factors = ctx->input(2 * offsets.size());
    std::vector<Rows> rows;
    std::vector<int64_t> starts;
    layoutOf(ctx, offsets, stacked_, axes_, &rows, &starts);
    if (!ctx->status().ok()) return;
    // Trailing entries past the tensors' rows (FTP's padding row) are ignored.
    OP_REQUIRES(ctx, factors.NumElements() >= starts.back(),
                tensorflow::errors::InvalidArgument("expected ", starts.back(), " row factors, got ", factors.NumElements()));
    tensorflow::OpOutputList outs;
    OP_REQUIRES_OK(ctx, ctx->output_list("out", &outs));
    const float* fv = factors.flat<float>().data();
    std::vector<float> byPart;
    if (by_part_) {
      const Tensor& values = ctx->input(2 * offsets.size() + 1);
      int64_t parts = 0;
      for (const Rows& g : rows) parts += g.runs;
      OP_REQUIRES(ctx, values.NumElements() == parts, tensorflow::errors::InvalidArgument("expected ", parts, " part values, got ", values.NumElements()));
      const float* pv = values.flat<float>().data();
      byPart.resize(starts.back());
      int64_t part = 0;
      for (size_t i = 0; i < rows.size(); ++i) {
        for (int64_t run = 0; run < rows[i].runs; ++run, ++part) {
          for (int64_t r = 0; r < rows[i].r; ++r) {
            const int64_t at = starts[i] + run * rows[i].r + r;
            byPart[at] = std::min(std::max(pv[part] * fv[at], 0.0f), 1.0f);
          }
        }
      }
      fv = byPart.data();
    }
    for (int i = 0; i < offsets.size(); ++i) {
      OP_REQUIRES(ctx, anchors[i].shape() == offsets[i].shape(), tensorflow::errors::InvalidArgument("anchor and offset ", i, " differ in shape"));
      Tensor* out = nullptr;
      OP_REQUIRES_OK(ctx, outs.allocate(i, offsets[i].shape(), &out));
      scaleAddOf(ctx, rows[i], anchors[i].flat<float>().data(), offsets[i].flat<float>().data(), fv + starts[i], out->flat<float>().data());
    }
  }

 private:
  bool stacked_ = false, by_part_ = false;
  std::vector<int32_t> axes_;
};

REGISTER_KERNEL_BUILDER(Name("AnchorageRowOffsets").Device(tensorflow::DEVICE_CPU), RowOffsetsOp);
REGISTER_KERNEL_BUILDER(Name("AnchorageRowScaleAdd").Device(tensorflow::DEVICE_CPU), RowScaleAddOp);

}  // namespace anchorage

// The ops registered above when this library was loaded; the addon exports their names.
NAPI_MODULE_INIT() {
  napi_value names;
  napi_create_array_with_length(env, 2, &names);
  const char* ops[] = {"AnchorageRowOffsets", "AnchorageRowScaleAdd"};
  for (uint32_t i = 0; i < 2; ++i) {
    napi_value s;
    napi_create_string_utf8(env, ops[i], NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, names, i, s);
  }
  napi_value result;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "ops", names);
  return result;
}
