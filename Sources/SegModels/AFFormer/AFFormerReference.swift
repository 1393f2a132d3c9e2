import Torch
import TorchIO

// Published figures of AFFormer measured on the official code: FLOPs (mmengine/fvcore convention, shared/reference/flops.md
// and the manifests). `swiftseg flops` and `swiftseg bench` show them beside their own measurements.

extension ModelFamily {
    static let afformerFlops: [FlopReference] = [
        // AFFormer: the paper's figures include the final resize to the input size (4.57 G for base @512 with it).
        FlopReference(model: "afformer-tiny", height: 512, width: 512, numClasses: 150, totalG: 3.136, paramsM: 2.193, backboneG: 2.747,
                      headG: 0.389, paperG: 2.8),
        FlopReference(model: "afformer-small", height: 512, width: 512, numClasses: 150, totalG: 3.392, paramsM: 2.389, backboneG: 3.003,
                      headG: 0.389, paperG: 3.6),
        FlopReference(model: "afformer-base", height: 512, width: 512, numClasses: 150, totalG: 4.414, paramsM: 3.004, backboneG: 4.025,
                      headG: 0.389, paperG: 4.6),
        FlopReference(model: "afformer-tiny", height: 1024, width: 2048, numClasses: 19, totalG: 23.991, paramsM: 2.160, backboneG: 21.978,
                      headG: 2.013, paperG: 23.0),
        FlopReference(model: "afformer-small", height: 1024, width: 2048, numClasses: 19, totalG: 26.040, paramsM: 2.355, backboneG: 24.027,
                      headG: 2.013, paperG: 26.2),
        FlopReference(model: "afformer-base", height: 1024, width: 2048, numClasses: 19, totalG: 34.217, paramsM: 2.970, backboneG: 32.203,
                      headG: 2.013, paperG: 34.4),
    ]
}
