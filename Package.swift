// swift-tools-version:6.0
// SwiftSeg: efficient semantic segmentation in Swift on libtorch.
import Foundation
import PackageDescription

// libtorch location: $LIBTORCH (tch-rs's convention: a folder with lib/ and include/), else the
// ./libtorch/torch folder that scripts/setup.sh fills. The CUDA runtime libraries sit beside it
// (../nvidia/cu13/lib) as in a pip install; libtorch_cpu finds them through its own RPATH.
let packageDir = Context.packageDirectory
let libtorch = Context.environment["LIBTORCH"] ?? "\(packageDir)/libtorch/torch"
let torchLib = "\(libtorch)/lib"
let cudaLib = "\(libtorch)/../nvidia/cu13/lib"

let torchLinker: [LinkerSetting] = [
    .unsafeFlags([
        "-L\(torchLib)",
        // DT_RPATH (not RUNPATH) so that libtorch's own dependencies resolve from the same folders too.
        "-Xlinker", "--disable-new-dtags",
        "-Xlinker", "-rpath", "-Xlinker", torchLib,
        "-Xlinker", "-rpath", "-Xlinker", cudaLib,
    ]),
    .linkedLibrary("torch_cpu"),
    .linkedLibrary("c10"),
    .linkedLibrary("stdc++"),
    .linkedLibrary("dl"),
]

let package = Package(
    name: "SwiftSeg",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Torch", targets: ["Torch"]),
        .library(name: "TorchIO", targets: ["TorchIO"]),
        .library(name: "SegModels", targets: ["SegModels"]),
        .library(name: "SegData", targets: ["SegData"]),
        .library(name: "SegEngine", targets: ["SegEngine"]),
        .executable(name: "swiftseg", targets: ["swiftseg"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        .target(
            name: "CTorch",
            cxxSettings: [
                // gloo_decls: the few Gloo declarations c10d's ProcessGroupGloo.hpp needs (the wheel ships no Gloo headers).
                .headerSearchPath("gloo_decls"),
                .unsafeFlags(["-std=c++17", "-I\(libtorch)/include", "-I\(libtorch)/include/torch/csrc/api/include", "-O2", "-Wno-deprecated-declarations"]),
            ],
            linkerSettings: torchLinker
        ),
        // Checkpoint and tensor-file readers/writers: pure Swift, no libtorch (safetensors, torch.save zip/legacy, pickle).
        .target(name: "TorchIO"),
        .target(name: "Torch", dependencies: ["CTorch", "TorchIO"]),
        .target(
            name: "CImageCodecs",
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png")]
        ),
        .target(name: "SegData", dependencies: ["Torch", "TorchIO", "CImageCodecs"]),
        .target(name: "SegModels", dependencies: ["Torch", "TorchIO"]),
        .target(name: "SegEngine", dependencies: ["Torch", "TorchIO", "SegModels", "SegData", .product(name: "Yams", package: "Yams"),
                                                 .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "swiftseg",
            dependencies: ["SegEngine", "SegModels", "SegData", "Torch", "TorchIO", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        // The rank processes that the distributed tests start (two per test, over Gloo on localhost).
        .executableTarget(name: "DistributedTestWorker", dependencies: ["Torch"], path: "Tests/DistributedTestWorker"),
        .testTarget(name: "TorchTests", dependencies: ["Torch", "TorchIO", "DistributedTestWorker"], resources: [.copy("Resources")]),
        .testTarget(name: "SegModelsTests", dependencies: ["SegModels", "Torch", "TorchIO"], resources: [.copy("Resources")]),
        .testTarget(name: "SegDataTests", dependencies: ["SegData"], resources: [.copy("Resources")]),
        .testTarget(name: "SegEngineTests", dependencies: ["SegEngine", .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v5]
)
