import Torch

/// The Mask2Former training loss as mmdet computes it for mmseg (`Mask2FormerHead.loss_by_feat`), summed over the
/// final prediction and every auxiliary one (deep supervision).
///
/// Per prediction: queries are matched one-to-one to the image's classes (`HungarianMatcher` on `numPoints`
/// uniform points); class cross-entropy over all queries (unmatched ones target "no object", weighted
/// `noObjectWeight`); mask BCE and dice on `numPoints` importance-sampled points of the matched masks, averaged
/// over the matched masks.
public struct Mask2FormerLossConfig: Sendable, Equatable {
    public var classWeight: Double = 2
    public var maskWeight: Double = 5
    public var diceWeight: Double = 5
    public var noObjectWeight: Double = 0.1
    public var numPoints: Int = 12544
    public var oversampleRatio: Double = 3
    public var importanceSampleRatio: Double = 0.75
    public var diceEps: Double = 1

    public init() {}

    /// mask2former_r50_8xb2-160k_ade20k-*.py `loss_cls`, `loss_mask`, `loss_dice`, `train_cfg`.
    public static let official = Mask2FormerLossConfig()
}

public struct Mask2FormerLoss: Sendable {
    public let config: Mask2FormerLossConfig
    public let matcher: HungarianMatcher
    public let random: UniformSource

    public init(config: Mask2FormerLossConfig = .official, random: UniformSource = TorchUniformSource()) {
        self.config = config
        self.random = random
        var m = HungarianMatcher()
        m.classWeight = config.classWeight
        m.maskWeight = config.maskWeight
        m.diceWeight = config.diceWeight
        m.diceEps = config.diceEps
        matcher = m
    }

    /// One image's ground truth as mmseg builds it: the classes present (ignore excluded) and their binary masks.
    public struct Targets {
        /// The classes, in increasing order (on the host and as a G int64 tensor).
        public var classes: [Int64]
        public var labels: Tensor
        /// G,H,W, 1 where the pixel has the class.
        public var masks: Tensor
        public var count: Int { classes.count }
    }

    /// labels B,H,W (int64) -> per image, the classes present in increasing order and their masks.
    public static func targets(labels: Tensor, numClasses: Int, ignoreIndex: Int) -> [Targets] {
        (0..<labels.size(0)).map { i in
            let image = labels[i]
            let counts = image.flatten().bincount().toArray(Int64.self)
            let present = counts.indices.filter { counts[$0] > 0 && $0 != ignoreIndex }
            precondition(present.allSatisfy { $0 < numClasses },
                         "label \(present.max() ?? 0) is out of range for \(numClasses) classes (ignore index \(ignoreIndex))")
            let classes = Tensor(present.map(Int64.init)).to(labels.device)
            let masks = (image.unsqueeze(0) .== classes.view([-1, 1, 1])).to(.float32)
            return Targets(classes: present.map(Int64.init), labels: classes, masks: masks)
        }
    }

    /// predictions: the final one first, then the auxiliary ones in decoder order (`SegmentationOutputs`);
    /// labels B,H,W. Terms named as mmdet's: `loss_cls`, `loss_mask`, `loss_dice`, then `d0.loss_cls`, ...
    public func callAsFunction(_ predictions: [MaskPrediction], labels: Tensor, ignoreIndex: Int = 255) -> LossValue {
        precondition(!predictions.isEmpty, "Mask2Former loss needs at least one prediction")
        let numClasses = predictions[0].classLogits.size(-1) - 1
        let targets = Self.targets(labels: labels, numClasses: numClasses, ignoreIndex: ignoreIndex)
        // mmdet evaluates the auxiliary predictions first (d0, d1, ...), then the final one: the random draws
        // are taken in that order.
        let ordered = Array(predictions.dropFirst()) + [predictions[0]]
        let perLayer = ordered.map { single($0, targets: targets) }
        var terms: [(name: String, value: Tensor)] = []
        for (i, t) in perLayer.enumerated() {
            let prefix = i == perLayer.count - 1 ? "" : "d\(i)."
            terms += [(prefix + "loss_cls", t.cls), (prefix + "loss_mask", t.mask), (prefix + "loss_dice", t.dice)]
        }
        // Final terms first, as mmdet's dict.
        terms = Array(terms.suffix(3)) + terms.dropLast(3)
        let total = terms.dropFirst().reduce(terms[0].value) { $0 + $1.value }
        return LossValue(total: total, terms: terms)
    }

    /// `_loss_by_feat_single`: class, mask and dice losses of one prediction, in float32 (as autocast runs them).
    func single(_ prediction: MaskPrediction, targets: [Targets]) -> (cls: Tensor, mask: Tensor, dice: Tensor) {
        let p = MaskPrediction(classLogits: prediction.classLogits.to(.float32), maskLogits: prediction.maskLogits.to(.float32))
        let (b, q) = (p.classLogits.size(0), p.classLogits.size(1))
        let numClasses = p.classLogits.size(-1) - 1
        let device = p.classLogits.device
        let eps = Double(Float.ulpOfOne)  // mmdet's avg_factor guard, torch.finfo(float32).eps

        // Match each image's queries to its classes on shared uniform points.
        var classTargets = [Int64](repeating: Int64(numClasses), count: b * q)
        var matchedQueries: [Tensor] = [], matchedMasks: [Tensor] = []
        var matched = 0
        for i in 0..<b {
            let points = random.uniform([1, config.numPoints, 2], device: device)
            let t = targets[i]
            guard t.count > 0 else { continue }
            let pairs = Torch.noGrad { () -> [(query: Int, gt: Int)] in
                let predPoints = PointSampling.sample(p.maskLogits[i].unsqueeze(0), at: points)[0]  // Q,P
                let gtPoints = PointSampling.sample(t.masks.unsqueeze(0), at: points)[0]            // G,P
                return matcher.match(classLogits: p.classLogits[i], maskPoints: predPoints, gtLabels: t.labels, gtPoints: gtPoints)
            }
            guard !pairs.isEmpty else { continue }
            for (query, gt) in pairs { classTargets[i * q + query] = t.classes[gt] }
            matchedQueries.append(p.maskLogits[i].indexSelect(0, Tensor(pairs.map { Int64($0.query) }).to(device)))
            matchedMasks.append(t.masks.indexSelect(0, Tensor(pairs.map { Int64($0.gt) }).to(device)))
            matched += pairs.count
        }

        // Class cross-entropy, "no object" down-weighted, averaged by the summed weights of the targets.
        var weights = [Float](repeating: 1, count: numClasses + 1)
        weights[numClasses] = Float(config.noObjectWeight)
        let classWeights = Tensor(weights).to(device)
        let labels = Tensor(classTargets).to(device)
        let ce = F.crossEntropy(p.classLogits.flatten(start: 0, end: 1), labels, weight: classWeights, reduction: .sum)
        let cls = ce / (classWeights.indexSelect(0, labels).sum() + eps) * config.classWeight

        guard matched > 0 else {
            let zero = p.maskLogits.sum() * 0  // keeps the graph, as mmdet's empty sum
            return (cls, zero, zero)
        }
        let masks = Tensor.cat(matchedQueries, dim: 0).unsqueeze(1)   // N,1,h,w
        let gtMasks = Tensor.cat(matchedMasks, dim: 0).unsqueeze(1)   // N,1,H,W
        let (points, gtPoints) = Torch.noGrad { () -> (Tensor, Tensor) in
            let points = PointSampling.uncertainPoints(masks.detach(), count: config.numPoints, oversample: config.oversampleRatio,
                                                       importance: config.importanceSampleRatio, random: random)
            return (points, PointSampling.sample(gtMasks, at: points).squeeze(1))
        }
        let predPoints = PointSampling.sample(masks, at: points).squeeze(1)  // N,P
        let numMasks = Double(max(matched, 1))
        let dice = diceLoss(probabilities: F.sigmoid(predPoints), targets: gtPoints, eps: config.diceEps).sum()
            / (numMasks + eps) * config.diceWeight
        let bce = F.binaryCrossEntropyWithLogits(predPoints.reshape([-1]), gtPoints.reshape([-1]), reduction: .sum)
        let mask = bce / (numMasks * Double(config.numPoints) + eps) * config.maskWeight
        return (cls, mask, dice)
    }
}

extension SegmentationLoss {
    /// Mask2Former's loss (official weights and sampling), drawing its points from PyTorch's generator.
    public static let mask2former = mask2former(Mask2FormerLoss())

    public static func mask2former(_ loss: Mask2FormerLoss) -> SegmentationLoss {
        SegmentationLoss(name: "mask2former (hungarian matching, CE + point BCE + dice, deep supervision)") { outputs, labels, options in
            loss(outputs.maskPredictions, labels: labels, ignoreIndex: options.ignoreIndex)
        }
    }
}
