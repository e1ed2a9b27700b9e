package sdj.backend.cuda;

/**
 * A device address (on the emulator, a host address). Kernel arguments, cuBLASLt operands and copies
 * all take the raw value; {@link #plus(long)} makes offset views into the same allocation.
 */
record DevicePtr(long address) {
    /** The same allocation, {@code bytes} further on. */
    DevicePtr plus(long bytes) {
        return bytes == 0 ? this : new DevicePtr(address + bytes);
    }
}
