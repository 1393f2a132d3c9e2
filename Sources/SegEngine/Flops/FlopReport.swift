// What the FLOP counter found in one forward pass, split the ways flops.md reports it.

import Torch

public struct FlopReport: Sendable, Codable, Equatable {
    /// FLOPs of one counted operator category ("conv", "linear", "matmul", ...).
    public struct OperatorFlops: Sendable, Codable, Equatable {
        public var op: String
        public var flops: Int
        /// How many recorded calls contributed.
        public var calls: Int
    }

    public struct ConvFlops: Sendable, Codable, Equatable {
        public var kind: ConvKind
        public var flops: Int
    }

    /// FLOPs under a top-level scope ("backbone", "decode_head"; "(unscoped)" for the rest).
    public struct ScopeFlops: Sendable, Codable, Equatable {
        public var scope: String
        public var flops: Int
    }

    /// Attention as Table 12 of the LRFormer paper defines it: the q·kᵀ and attn·v products, plus the
    /// bilinear upsampling of LRSA's output back to the input grid.
    public struct AttentionFlops: Sendable, Codable, Equatable {
        public var products: Int
        public var upsample: Int
        public var total: Int { products + upsample }

        public init(products: Int, upsample: Int) {
            self.products = products
            self.upsample = upsample
        }
        enum CodingKeys: String, CodingKey { case products, upsample, total }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(products: try c.decode(Int.self, forKey: .products), upsample: try c.decode(Int.self, forKey: .upsample))
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(products, forKey: .products)
            try c.encode(upsample, forKey: .upsample)
            try c.encode(total, forKey: .total)
        }
    }

    /// Output elements of an operator the convention does not count (gelu, softmax, add, mul, ...).
    public struct ElementCount: Sendable, Codable, Equatable {
        public var op: String
        public var elements: Int
        public var calls: Int
    }

    public var model: String
    public var inputShape: [Int]
    public var outputShapes: [[Int]]
    /// Trainable parameters (BatchNorm statistics excluded, as mmengine counts).
    public var parameters: Int
    /// FLOPs (= multiply-adds) of every counted operator.
    public var total: Int
    public var byOperator: [OperatorFlops]
    public var convSplit: [ConvFlops]
    public var byScope: [ScopeFlops]
    /// The encoder's attention (scope "backbone"): the paper's "Att." column.
    public var encoderAttention: AttentionFlops
    /// The decoder's attention (scope "decode_head"), not part of the paper's figure.
    public var decoderAttention: AttentionFlops
    /// Uncounted work. "softmax (in sdpa)" is the attention-score softmax that a fused
    /// scaled_dot_product_attention call performs without reporting it (the official code calls softmax).
    public var elementwise: [ElementCount]
    /// Recorded operator calls in total.
    public var events: Int

    public func flops(of op: String) -> Int { byOperator.first { $0.op == op }?.flops ?? 0 }
    public func flops(of kind: ConvKind) -> Int { convSplit.first { $0.kind == kind }?.flops ?? 0 }
    public func flops(inScope scope: String) -> Int { byScope.first { $0.scope == scope }?.flops ?? 0 }
    public func elements(of op: String) -> Int { elementwise.first { $0.op == op }?.elements ?? 0 }
}

extension FlopReport {
    /// Builds the report from a recorder's events.
    public init(model: String, inputShape: [Int], outputShapes: [[Int]], parameters: Int, events: [OpEvent]) {
        var perOp: [String: (flops: Int, calls: Int)] = [:]
        var perConv: [ConvKind: Int] = [:]
        var perScope: [String: Int] = [:]
        var scopeOrder: [String] = []
        var encoder = AttentionFlops(products: 0, upsample: 0)
        var decoder = AttentionFlops(products: 0, upsample: 0)
        var elements: [String: (elements: Int, calls: Int)] = [:]
        var elementOrder: [String] = []
        func tally(_ op: String, _ n: Int) {
            if elements[op] == nil { elementOrder.append(op) }
            elements[op, default: (0, 0)].elements += n
            elements[op, default: (0, 0)].calls += 1
        }

        for event in events {
            guard let cost = FlopConvention.cost(of: event) else {
                tally(event.op, FlopConvention.product(event.output))
                continue
            }
            perOp[cost.category, default: (0, 0)].flops += cost.flops
            perOp[cost.category, default: (0, 0)].calls += 1
            if let kind = cost.convKind { perConv[kind, default: 0] += cost.flops }
            let top = event.scopes.first ?? "(unscoped)"
            if perScope[top] == nil { scopeOrder.append(top) }
            perScope[top, default: 0] += cost.flops

            let isProduct = event.scopes.contains("attention"), isUpsample = event.scopes.contains("attention-upsample")
            if isProduct || isUpsample {
                func add(_ a: inout AttentionFlops) {
                    if isUpsample { a.upsample += cost.flops } else { a.products += cost.flops }
                }
                if event.scopes.contains("backbone") { add(&encoder) } else if event.scopes.contains("decode_head") { add(&decoder) }
            }
            if event.op == "scaled_dot_product_attention" {
                // The fused call's hidden softmax over the N x M score matrix.
                let m = event.inputs[1][event.inputs[1].count - 2]
                tally("softmax (in sdpa)", FlopConvention.product(Array(event.output.dropLast())) * m)
            }
        }

        let total = perOp.values.reduce(0) { $0 + $1.flops }
        self.init(
            model: model, inputShape: inputShape, outputShapes: outputShapes, parameters: parameters, total: total,
            byOperator: (FlopConvention.categories + perOp.keys.filter { !FlopConvention.categories.contains($0) }.sorted())
                .compactMap { op in perOp[op].map { OperatorFlops(op: op, flops: $0.flops, calls: $0.calls) } },
            convSplit: ConvKind.allCases.compactMap { k in perConv[k].map { ConvFlops(kind: k, flops: $0) } },
            byScope: scopeOrder.map { ScopeFlops(scope: $0, flops: perScope[$0]!) },
            encoderAttention: encoder, decoderAttention: decoder,
            elementwise: elementOrder.map { ElementCount(op: $0, elements: elements[$0]!.elements, calls: elements[$0]!.calls) },
            events: events.count)
    }
}
