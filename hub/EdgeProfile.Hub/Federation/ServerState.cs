using System.Text.Json;

namespace EdgeProfile.Hub.Federation;

/// <summary>
/// What the server keeps between rounds besides the global parameters, checkpointed with each round: the server
/// optimiser's state (moments of FedAdam/FedYogi) and the privacy accountant's RDP per order and round count.
/// </summary>
internal sealed record ServerState(byte[]? Optimizer, double[]? Rdp, int RdpRounds)
{
    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this);

    public static ServerState Read(byte[]? bytes) =>
        bytes is { Length: > 0 } ? JsonSerializer.Deserialize<ServerState>(bytes) ?? new ServerState(null, null, 0) : new ServerState(null, null, 0);
}
