package sdj.sd.clip;

import sdj.ops.Embedding;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Token embedding over a frozen base table [V, width] plus added rows [n, width] for ids V … V+n−1,
 * without concatenating the tables: both are looked up (ids clamped into each table) and a 0/1 mask
 * selects per position. Multiplying by exactly 0 or 1 and adding the exact 0 keeps every value
 * bit-identical to a plain lookup, and the added rows' gradient comes only from positions holding an
 * added id.
 */
final class AddedTokenLookup {
    private AddedTokenLookup() {
    }

    static Tensor embed(Tensor ids, Tensor base, Tensor added) {
        long[] id = ids.toLongArray();
        int vocab = base.size(0);
        int total = vocab + added.size(0);
        long[] baseIds = new long[id.length];
        long[] addedIds = new long[id.length];
        float[] isAdded = new float[id.length];
        for (int i = 0; i < id.length; i++) {
            if (id[i] < 0 || id[i] >= total) {
                throw new IllegalArgumentException("token id " + id[i] + " is outside the embedding table ("
                        + vocab + " base rows + " + added.size(0) + " added rows); add the token's row with"
                        + " ClipTextModel.addTokenRows before encoding prompts that use it");
            }
            boolean isNew = id[i] >= vocab;
            baseIds[i] = isNew ? 0 : id[i];
            addedIds[i] = isNew ? id[i] - vocab : 0;
            isAdded[i] = isNew ? 1f : 0f;
        }
        int[] shape = ids.shape();
        Device device = base.device();
        Tensor fromBase = Embedding.embedding(Tensor.ofLongs(baseIds, shape).to(device), base);
        Tensor fromAdded = Embedding.embedding(Tensor.ofLongs(addedIds, shape).to(device), added);
        int[] maskShape = java.util.Arrays.copyOf(shape, shape.length + 1);
        maskShape[shape.length] = 1;
        float[] keep = new float[id.length];
        for (int i = 0; i < id.length; i++) {
            keep[i] = 1f - isAdded[i];
        }
        Tensor addedMask = onDevice(Tensor.of(isAdded, maskShape), base);
        Tensor baseMask = onDevice(Tensor.of(keep, maskShape), base);
        return fromBase.mul(baseMask).add(fromAdded.mul(addedMask));
    }

    private static Tensor onDevice(Tensor mask, Tensor like) {
        return like.device() == Device.CPU ? mask : mask.to(like.device(), like.dtype());
    }
}
