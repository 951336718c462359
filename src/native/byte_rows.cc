// Byte images read as float rows on native TensorFlow. A data set of 8-bit images is held as its bytes (each stands
// for byte / 255, src/contracts/data.ts); TensorFlow.js has no uint8 tensors, so a task's images went to the
// backend as float32, four times their size, and an epoch's gather in training order made a second float copy.
// Here they go as their bytes, four to an int32 ([n, width / 4]), and this op gathers the rows a step or an
// evaluation pass needs and decodes them into float32 in the same pass: the float rows exist for one batch only.
//
// Part of the kernels addon (built with row_kernels.cc, whose module init names this op).
#include <cstdint>

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

// rows[i, j] = byte j of row index[i] of `bytes`, times 1 / 255 (rounded as src/contracts/data.ts's BYTE_VALUE).
REGISTER_OP("AnchorageByteRows")
    .Input("bytes: int32")
    .Input("index: int32")
    .Output("rows: float")
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      tensorflow::shape_inference::ShapeHandle bytes, index;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 2, &bytes));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 1, &index));
      tensorflow::shape_inference::DimensionHandle width;
      TF_RETURN_IF_ERROR(c->Multiply(c->Dim(bytes, 1), 4, &width));
      c->set_output(0, c->Matrix(c->Dim(index, 0), width));
      return tensorflow::OkStatus();
    });

class ByteRowsOp : public OpKernel {
 public:
  explicit ByteRowsOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    // What JavaScript computes for BYTE_VALUE: the double b * (1 / 255), rounded to float.
    for (int b = 0; b < 256; ++b) value_[b] = static_cast<float>(b * (1.0 / 255.0));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& bytes = ctx->input(0);
    const Tensor& index = ctx->input(1);
    OP_REQUIRES(ctx, bytes.dims() == 2 && index.dims() == 1,
                tensorflow::errors::InvalidArgument("AnchorageByteRows: bytes must be [n, width / 4], index [b]"));
    const int64_t n = bytes.dim_size(0);
    const int64_t width = bytes.dim_size(1) * 4;
    const int64_t b = index.dim_size(0);
    const int32_t* rows = index.flat<int32_t>().data();
    for (int64_t i = 0; i < b; ++i)
      OP_REQUIRES(ctx, rows[i] >= 0 && rows[i] < n,
                  tensorflow::errors::InvalidArgument("AnchorageByteRows: row ", rows[i], " of ", n));
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({b, width}), &out));
    const uint8_t* src = reinterpret_cast<const uint8_t*>(bytes.flat<int32_t>().data());
    float* dst = out->flat<float>().data();
    const float* value = value_;
    auto decode = [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const uint8_t* from = src + static_cast<int64_t>(rows[i]) * width;
        float* to = dst + i * width;
        for (int64_t j = 0; j < width; ++j) to[j] = value[from[j]];
      }
    };
    auto* threads = ctx->device()->tensorflow_cpu_worker_threads();
    tensorflow::Shard(threads->num_threads, threads->workers, b, width * 2, decode);
  }

 private:
  float value_[256];
};

REGISTER_KERNEL_BUILDER(Name("AnchorageByteRows").Device(tensorflow::DEVICE_CPU), ByteRowsOp);

}  // namespace anchorage
