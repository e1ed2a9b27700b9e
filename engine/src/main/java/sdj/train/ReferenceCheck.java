package sdj.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import sdj.sd.verify.Check;
import sdj.tensor.DType;
import sdj.tensor.Device;
import sdj.tensor.Tensor;

/**
 * Compares computed tensors with a training reference file's tensors by name and collects one
 * {@link Check} per comparison: the lines {@code name maxAbsErr maxRelErr PASS|FAIL} and the closing
 * {@code N/M checks pass} of {@code sdj train ... --reference DIR --check}. Tolerances are those of the
 * sd-tiny-train README.
 */
public final class ReferenceCheck {
    /** Bit-equal (schedule coefficients). */
    public static final Check.Tolerance EXACT = new Check.Tolerance(0, 0);
    /** Losses and gradient norms: |a − b| ≤ 1e-5·|b|. */
    public static final Check.Tolerance SCALAR = new Check.Tolerance(0, 1e-5);
    /** Float32 elementwise arithmetic from stored inputs (q_sample, offset noise): 1e-6 of the largest value. */
    public static final Check.Tolerance ELEMENTWISE = new Check.Tolerance(0, 1e-6);
    /** Weights computed in float64 then rounded (min-SNR): 1e-7 relative. */
    public static final Check.Tolerance ROUNDED_FLOAT64 = new Check.Tolerance(0, 1e-7);
    /** Forward outputs: 1e-4·max(1, max|b|). */
    public static final Check.Tolerance FORWARD = Check.Tolerance.FORWARD;
    /** Gradients: 1e-3·max|b|. */
    public static final Check.Tolerance GRADIENT = Check.Tolerance.GRADIENT;

    private final Map<String, Tensor> reference;
    private final String origin;
    private final Consumer<Check> onCheck;
    private final List<Check> checks = new ArrayList<>();

    /** @param onCheck called with each check as it is made (e.g. to print its line) */
    public ReferenceCheck(Map<String, Tensor> reference, String origin, Consumer<Check> onCheck) {
        this.reference = reference;
        this.origin = origin;
        this.onCheck = onCheck;
    }

    /** The reference tensor {@code name}; a missing one is an error naming the file and the key. */
    public Tensor expected(String name) {
        Tensor t = reference.get(name);
        if (t == null) {
            throw new IllegalArgumentException(origin + " has no tensor '" + name
                    + "'; is it a training reference (sd-tiny-train layout) of the same version?");
        }
        return t;
    }

    /**
     * A reference input for a model on {@code device} in {@code dtype}: the stored tensor itself on the CPU,
     * converted to the device's compute dtype elsewhere.
     */
    public Tensor input(String name, Device device, DType dtype) {
        return expected(name).to(device, device == Device.CPU ? null : dtype);
    }

    /** Compares {@code actual} (any device and dtype) with the reference tensor {@code name}. */
    public Check compare(String name, Tensor actual, Check.Tolerance tolerance) {
        return compare(name, actual.to(Device.CPU, DType.F32).toFloatArray(), tolerance);
    }

    /** Compares host values (e.g. a float64 result rounded to float32) with the reference tensor {@code name}. */
    public Check compare(String name, float[] actual, Check.Tolerance tolerance) {
        return add(Check.compare(name, actual, expected(name).toFloatArray(), tolerance));
    }

    /** Records a check made elsewhere (e.g. {@link FragileWeightCheck}, against a value built from several tensors). */
    public Check add(Check c) {
        checks.add(c);
        onCheck.accept(c);
        return c;
    }

    /** Whether the reference has a tensor {@code name}. */
    public boolean has(String name) {
        return reference.containsKey(name);
    }

    public List<Check> checks() {
        return List.copyOf(checks);
    }

    public long passed() {
        return checks.stream().filter(Check::pass).count();
    }

    public boolean allPass() {
        return passed() == checks.size();
    }

    /** The closing line, {@code N/M checks pass}. */
    public String summary() {
        return passed() + "/" + checks.size() + " checks pass";
    }
}
