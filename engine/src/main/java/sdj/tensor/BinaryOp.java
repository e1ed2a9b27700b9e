package sdj.tensor;

/** The elementwise operators of two tensors that every backend implements (with NumPy broadcasting). */
public enum BinaryOp {
    ADD, SUB, MUL, DIV
}
