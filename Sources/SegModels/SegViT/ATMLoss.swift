import Foundation
import Torch

/// SegViT's training loss (losses/atm_loss.py `ATMLoss` + losses/criterion.py `SetCriterion`), exactly as upstream:
///
/// - **No Hungarian matching.** Query c is assigned to class c for every class present in an image's label map
///   (values other than the ignore index); the other queries' target is "no object" (index K).
/// - Classification: cross-entropy over all K queries with class weights [1, ..., 1, 0.1] (PyTorch's weighted mean).
/// - Masks of the assigned queries, bilinearly resized (align_corners false) to the label size, against the binary
///   maps `label == c`, where ignored pixels are negatives: sigmoid focal loss (α 0.25, γ 2; ×20) and dice (×1),
///   each summed over masks and divided by the number of target masks in the batch (at least 1).
/// - The same three terms for every auxiliary prediction, with the same assignment; names `_0`, `_1`, ...
public struct ATMLoss: Sendable {
    /// Cross-entropy weight of the "no object" class (`eos_coef`).
    public static let noObjectWeight = 0.1
    public var classWeight = 1.0
    public var maskWeight = 20.0
    public var diceWeight = 1.0

    public init() {}

    /// predictions: final first, then the auxiliary ones (class logits B,K,K+1; mask logits B,K,h,w);
    /// labels B,H,W int64.
    public func callAsFunction(_ predictions: [MaskPrediction], labels: Tensor, ignoreIndex: Int) -> LossValue {
        precondition(!predictions.isEmpty, "the ATM loss needs at least one prediction")
        let first = predictions[0].classLogits
        let (b, k) = (first.size(0), first.size(2) - 1)
        let device = first.device
        let present = Self.presentClasses(labels, numClasses: k, ignoreIndex: ignoreIndex)

        // Targets of the fixed assignment: per-query class ids, the (image, class) pairs and their binary masks.
        var targetClasses = [Int64](repeating: Int64(k), count: b * k)
        var pairs: [(image: Int, cls: Int)] = []
        for (i, classes) in present.enumerated() {
            for c in classes {
                targetClasses[i * k + c] = Int64(c)
                pairs.append((i, c))
            }
        }
        let targets = Tensor(targetClasses, shape: [b, k]).to(device)
        let numMasks = Double(max(pairs.count, 1))
        let classWeights = Tensor.cat([Tensor.ones([k]), Tensor.full([1], Self.noObjectWeight)]).to(dtype: first.dtype, device: device)
        var flatIndex: Tensor? = nil, targetMasks: Tensor? = nil
        if !pairs.isEmpty {
            flatIndex = Tensor(pairs.map { Int64($0.image * k + $0.cls) }).to(device)
            let images = Tensor(pairs.map { Int64($0.image) }).to(device)
            let classes = Tensor(pairs.map { Int64($0.cls) }, shape: [pairs.count, 1, 1]).to(device)
            targetMasks = (labels.indexSelect(0, images) .== classes).to(first.dtype).flatten(start: 1)  // N,H·W
        }

        var terms: [(name: String, value: Tensor)] = []
        for (i, p) in predictions.enumerated() {
            let suffix = i == 0 ? "" : "_\(i - 1)"
            // B,K,K+1 -> B,K+1,K: classes on dim 1, as F.cross_entropy wants them.
            let ce = F.crossEntropy(p.classLogits.transpose(1, 2), targets, weight: classWeights)
            terms.append(("loss_ce\(suffix)", ce * classWeight))
            let (focal, dice): (Tensor, Tensor)
            if let flatIndex, let targetMasks {
                let m = p.maskLogits
                let matched = m.flatten(start: 0, end: 1).indexSelect(0, flatIndex).unsqueeze(1)  // N,1,h,w
                let logits = F.interpolate(matched, size: (labels.size(1), labels.size(2))).flatten(start: 1)  // N,H·W
                focal = sigmoidFocalLoss(logits: logits, targets: targetMasks, numMasks: numMasks)
                dice = diceLoss(logits: logits, targets: targetMasks, numMasks: numMasks)
            } else {
                // No labelled pixel in the batch: no mask term (upstream sums over an empty set).
                focal = (p.maskLogits * 0).sum()
                dice = focal
            }
            terms.append(("loss_mask\(suffix)", focal * maskWeight))
            terms.append(("loss_dice\(suffix)", dice * diceWeight))
        }
        let total = terms.dropFirst().reduce(terms[0].value) { $0 + $1.value }
        return LossValue(total: total, terms: terms)
    }

    /// The classes each image's label map contains (ascending), ignoring `ignoreIndex`. Label values must lie in
    /// 0..<numClasses (a data/class-count mismatch is a programmer error here, as in PyTorch's cross-entropy).
    static func presentClasses(_ labels: Tensor, numClasses k: Int, ignoreIndex: Int) -> [[Int]] {
        let valid = labels .!= Double(ignoreIndex)
        // Ignored pixels go to an extra bin k; a label k that is not the ignore index would hide there, so check it.
        let binned = Tensor.where(valid, labels, Tensor.full([], Double(k), dtype: labels.dtype, device: labels.device))
        precondition(ignoreIndex == k || (labels .== Double(k)).sum().itemInt() == 0,
                     "ATM loss: label value \(k) is out of range for \(k) classes (ignore index \(ignoreIndex))")
        return (0..<labels.size(0)).map { i in
            let counts = binned[i].flatten().bincount(minLength: k + 1).toArray(Int64.self)
            precondition(counts.count == k + 1, "ATM loss: label values exceed \(k) classes (ignore index \(ignoreIndex))")
            return (0..<k).filter { counts[$0] > 0 }
        }
    }
}

extension SegmentationLoss {
    /// SegViT's ATM loss on `maskPredictions` (final first, then auxiliary): see `ATMLoss`.
    public static let atm = SegmentationLoss(name: "atm") { outputs, labels, options in
        ATMLoss()(outputs.maskPredictions, labels: labels, ignoreIndex: options.ignoreIndex)
    }
}
