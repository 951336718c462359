// Fused row kernels for the projection optimizers on native TensorFlow.
//
// tfjs-node runs one TensorFlow kernel per op with no fusion, so FTP's
// projection — offset, |offset|, row sums, g ⊙ c_prev, its row sums, the
// row-wise scale and the add of the anchor — was seven full passes over every
// large weight matrix, each paying for a fresh output buffer. These two kernels
// do the same arithmetic in two passes: one that reads the tentative weights,
// the anchor, the gradient and the previous offset and writes the offset plus
// two row vectors, and one that writes anchor + factor[row] · offset.
//
// A "row" follows src/optim/rows.ts: the slice of a tensor at one index of its
// row axis, with runs trained together stacked on a leading axis and reduced
// on their own (row index = run × rows + row). Each row is summed by one
// thread in a fixed order (in double), so results do not depend on the number
// of threads.
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
REGISTER_OP("AnchorageRowOffsets")
    .Input("tentative: N * float")
    .Input("anchor: N * float")
    .Input("grad: N * float")
    .Input("prev: N * float")
    .Attr("N: int >= 1")
    .Attr("stacked: bool")
    .Attr("row_axes: list(int)")
    .Attr("with_grad: bool")
    .Attr("pad: int >= 0")
    .Output("offset: N * float")
    .Output("norms: float")
    .Output("dots: float")
    .SetShapeFn(tensorflow::shape_inference::UnknownShape);

REGISTER_OP("AnchorageRowScaleAdd")
    .Input("anchor: N * float")
    .Input("offset: N * float")
    .Input("factors: float")
    .Attr("N: int >= 1")
    .Attr("stacked: bool")
    .Attr("row_axes: list(int)")
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

// Calls fn(first row, end row) over a tensor's rows, split among TensorFlow's intra-op threads.
template <typename Fn>
static void forRows(OpKernelContext* ctx, const Rows& g, Fn fn) {
  auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
  const int64_t cost = g.a * g.b * 8;
  tensorflow::Shard(workers->num_threads, workers->workers, g.count(), cost, fn);
}

// Rows [r0, r1) of one run, over all of A: offset, Σ|offset| into n[r − r0] and, with kGrad, Σ g ⊙ prev into
// d[r − r0]. When rows are the innermost axis (B = 1, a dense or conv kernel with its output units last) the loop
// runs along the rows, contiguous in memory, and vectorises; each row still sums in the same order (A, then B).
template <bool kGrad>
static void offsetBlock(const Rows& g, int64_t run, int64_t r0, int64_t r1, const float* __restrict p, const float* __restrict a,
                        const float* __restrict gr, const float* __restrict prev, float* __restrict o, double* __restrict n,
                        double* __restrict d) {
  for (int64_t x = 0; x < g.a; ++x) {
    const int64_t base = ((run * g.a + x) * g.r) * g.b;
    if (g.b == 1) {
      const float* __restrict pr = p + base + r0;
      const float* __restrict ar = a + base + r0;
      float* __restrict orow = o + base + r0;
      const float* __restrict gq = kGrad ? gr + base + r0 : nullptr;
      const float* __restrict cq = kGrad ? prev + base + r0 : nullptr;
      const int64_t len = r1 - r0;
      for (int64_t k = 0; k < len; ++k) {
        const float c = pr[k] - ar[k];
        orow[k] = c;
        n[k] += static_cast<double>(std::fabs(c));
        if (kGrad) d[k] += static_cast<double>(gq[k] * cq[k]);
      }
      continue;
    }
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t at = base + r * g.b;
      double sn = 0.0, sd = 0.0;
      for (int64_t y = 0; y < g.b; ++y) {
        const float c = p[at + y] - a[at + y];
        o[at + y] = c;
        sn += std::fabs(c);
        if (kGrad) sd += static_cast<double>(gr[at + y] * prev[at + y]);
      }
      n[r - r0] += sn;
      if (kGrad) d[r - r0] += sd;
    }
  }
}

// out = anchor + f[row] · offset over rows [r0, r1) of one run (f already at the run's rows).
static void scaleAddBlock(const Rows& g, int64_t run, int64_t r0, int64_t r1, const float* __restrict a, const float* __restrict c,
                          const float* __restrict f, float* __restrict out) {
  for (int64_t x = 0; x < g.a; ++x) {
    const int64_t base = ((run * g.a + x) * g.r) * g.b;
    if (g.b == 1) {
      for (int64_t r = r0; r < r1; ++r) out[base + r] = a[base + r] + c[base + r] * f[r];
      continue;
    }
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t at = base + r * g.b;
      const float fr = f[r];
      for (int64_t y = 0; y < g.b; ++y) out[at + y] = a[at + y] + c[at + y] * fr;
    }
  }
}

class RowOffsetsOp : public OpKernel {
 public:
  explicit RowOffsetsOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("stacked", &stacked_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("row_axes", &axes_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("with_grad", &with_grad_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("pad", &pad_));
  }

  void Compute(OpKernelContext* ctx) override {
    tensorflow::OpInputList ps, anchors, grads, prevs;
    OP_REQUIRES_OK(ctx, ctx->input_list("tentative", &ps));
    OP_REQUIRES_OK(ctx, ctx->input_list("anchor", &anchors));
    OP_REQUIRES_OK(ctx, ctx->input_list("grad", &grads));
    OP_REQUIRES_OK(ctx, ctx->input_list("prev", &prevs));
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
    }
    tensorflow::OpOutputList offsets;
    OP_REQUIRES_OK(ctx, ctx->output_list("offset", &offsets));
    Tensor *norms = nullptr, *dots = nullptr;
    const int64_t total = starts.back() + pad_;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(ps.size(), TensorShape({total}), &norms));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(ps.size() + 1, TensorShape({total}), &dots));
    float* nv = norms->flat<float>().data();
    float* dv = dots->flat<float>().data();
    std::fill(nv + starts.back(), nv + total, 0.0f);
    std::fill(dv + starts.back(), dv + total, 0.0f);
    for (int i = 0; i < ps.size(); ++i) {
      Tensor* offset = nullptr;
      OP_REQUIRES_OK(ctx, offsets.allocate(i, ps[i].shape(), &offset));
      const Rows g = rows[i];
      const float* pv = ps[i].flat<float>().data();
      const float* av = anchors[i].flat<float>().data();
      const float* gv = with_grad_ ? grads[i].flat<float>().data() : nullptr;
      const float* cv = with_grad_ ? prevs[i].flat<float>().data() : nullptr;
      float* ov = offset->flat<float>().data();
      float* nt = nv + starts[i];
      float* dt = dv + starts[i];
      forRows(ctx, g, [&](int64_t begin, int64_t end) {
        // Rows [begin, end) may span runs; each run's block goes through offsetBlock.
        std::vector<double> n(end - begin, 0.0), d(end - begin, 0.0);
        for (int64_t row = begin; row < end;) {
          const int64_t run = row / g.r, r0 = row % g.r;
          const int64_t r1 = std::min(g.r, r0 + (end - row));
          if (gv) offsetBlock<true>(g, run, r0, r1, pv, av, gv, cv, ov, n.data() + (row - begin), d.data() + (row - begin));
          else offsetBlock<false>(g, run, r0, r1, pv, av, gv, cv, ov, n.data() + (row - begin), d.data() + (row - begin));
          row += r1 - r0;
        }
        for (int64_t k = 0; k < end - begin; ++k) {
          nt[begin + k] = static_cast<float>(n[k]);
          dt[begin + k] = static_cast<float>(d[k]);
        }
      });
    }
  }

 private:
  bool stacked_ = false, with_grad_ = false;
  std::vector<int32_t> axes_;
  int pad_ = 0;
};

class RowScaleAddOp : public OpKernel {
 public:
  explicit RowScaleAddOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("stacked", &stacked_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("row_axes", &axes_));
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
    for (int i = 0; i < offsets.size(); ++i) {
      OP_REQUIRES(ctx, anchors[i].shape() == offsets[i].shape(), tensorflow::errors::InvalidArgument("anchor and offset ", i, " differ in shape"));
      Tensor* out = nullptr;
      OP_REQUIRES_OK(ctx, outs.allocate(i, offsets[i].shape(), &out));
      const Rows g = rows[i];
      const float* av = anchors[i].flat<float>().data();
      const float* cv = offsets[i].flat<float>().data();
      const float* ft = fv + starts[i];
      float* ov = out->flat<float>().data();
      forRows(ctx, g, [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end;) {
          const int64_t run = row / g.r, r0 = row % g.r;
          const int64_t r1 = std::min(g.r, r0 + (end - row));
          scaleAddBlock(g, run, r0, r1, av, cv, ft + run * g.r, ov);
          row += r1 - r0;
        }
      });
    }
  }

 private:
  bool stacked_ = false;
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
