package sdj.cli;

/** `sdj data classify DIR`: classifies every image listed in DIR/metadata.jsonl and prints the accuracy. */
final class DataClassify {
    private DataClassify() {
    }

    static int run(String[] args) throws Exception {
        throw new UserError("'sdj data classify' is not available yet");
    }
}
