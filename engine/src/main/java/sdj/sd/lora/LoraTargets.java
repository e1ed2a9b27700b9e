package sdj.sd.lora;

import sdj.sd.DiffusersNames;
import sdj.sd.KohyaNames;

/**
 * The LDM module a LoRA file's module name refers to: kohya names ({@code lora_unet_…},
 * {@code lora_te_…}), diffusers names with their component prefix ({@code unet.…},
 * {@code text_encoder.…}), and bare diffusers paths as PEFT and the old attention processors save
 * them ({@code base_model.model.} dropped; {@code text_model.…} is the text encoder, the rest the UNet).
 */
final class LoraTargets {
    private static final String PEFT_WRAPPER = "base_model.model.";

    private final DiffusersNames diffusers;
    private final KohyaNames kohya;

    LoraTargets(DiffusersNames diffusers) {
        this.diffusers = diffusers;
        this.kohya = new KohyaNames(diffusers);
    }

    /** The LDM module path (no {@code .weight}), or null when the name fits no known scheme. */
    String ldmModule(String fileModule) {
        if (fileModule.startsWith(KohyaNames.UNET) || fileModule.startsWith(KohyaNames.TEXT_ENCODER)) {
            return kohya.toLdm(fileModule);
        }
        String component = "";
        String path = fileModule;
        for (String prefix : new String[] {DiffusersNames.UNET, DiffusersNames.TEXT_ENCODER}) {
            if (path.startsWith(prefix)) {
                component = prefix;
                path = path.substring(prefix.length());
            }
        }
        if (path.startsWith(PEFT_WRAPPER)) {
            path = path.substring(PEFT_WRAPPER.length());
        }
        if (component.equals(DiffusersNames.TEXT_ENCODER) || component.isEmpty() && path.startsWith("text_model.")) {
            return DiffusersNames.textEncoderToLdm(path);
        }
        return diffusers.unetToLdm(path);
    }
}
