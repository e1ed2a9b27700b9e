package sdj.sd.unet;

import sdj.tensor.Tensor;

/** A UNet layer that may read the time embedding and the text context (CompVis TimestepEmbedSequential members). */
interface TimestepBlock {
    Tensor forward(Tensor x, Tensor emb, Tensor context);
}
