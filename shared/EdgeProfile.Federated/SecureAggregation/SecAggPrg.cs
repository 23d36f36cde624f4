using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;
using X86Sse2 = System.Runtime.Intrinsics.X86.Sse2;

namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>
/// The mask generator: AES-128 in counter mode. The stream under key <c>k</c> is the byte string
/// <c>AES_k(LE64(0) || 0^64) || AES_k(LE64(1) || 0^64) || …</c>; element <c>j</c> of a ring of <c>b</c> bits is its
/// little-endian <c>b/8</c>-byte word <c>j</c> (in the 64-bit ring: word <c>j mod 2</c> of block <c>j / 2</c>). The key is
/// used for one stream only (it is derived by HKDF from a seed that is fresh every round), so a zero nonce is safe. Any
/// AES implementation reproduces it; here AES-NI is used when the CPU has it (eight blocks in flight), the platform's
/// AES (<see cref="System.Security.Cryptography.Aes.EncryptEcb(ReadOnlySpan{byte}, Span{byte}, PaddingMode)"/>)
/// otherwise.
/// </summary>
public static class SecAggPrg
{
    /// <summary>Bytes of a generator key.</summary>
    public const int KeySize = 16;

    private const int BlockBytes = 16;

    /// <summary>Adds the stream under <paramref name="key"/> to <paramref name="destination"/> (64-bit ring).</summary>
    public static void Add(ReadOnlySpan<byte> key, Span<ulong> destination) =>
        Apply(new PrgKey(key.ToArray()), MemoryMarshal.AsBytes(destination), 0, subtract: false, ringBits: 64);

    /// <summary>Subtracts the stream under <paramref name="key"/> from <paramref name="destination"/> (64-bit ring).</summary>
    public static void Subtract(ReadOnlySpan<byte> key, Span<ulong> destination) =>
        Apply(new PrgKey(key.ToArray()), MemoryMarshal.AsBytes(destination), 0, subtract: true, ringBits: 64);

    /// <summary>Adds the stream under <paramref name="key"/> to <paramref name="destination"/> (32-bit ring).</summary>
    public static void Add(ReadOnlySpan<byte> key, Span<uint> destination) =>
        Apply(new PrgKey(key.ToArray()), MemoryMarshal.AsBytes(destination), 0, subtract: false, ringBits: 32);

    /// <summary>Subtracts the stream under <paramref name="key"/> from <paramref name="destination"/> (32-bit ring).</summary>
    public static void Subtract(ReadOnlySpan<byte> key, Span<uint> destination) =>
        Apply(new PrgKey(key.ToArray()), MemoryMarshal.AsBytes(destination), 0, subtract: true, ringBits: 32);

    /// <summary>
    /// Adds or subtracts stream bytes <c>[firstByte, firstByte + destination.Length)</c> to the ring elements held
    /// (little-endian, <paramref name="ringBits"/> / 8 bytes each) in <paramref name="destination"/>;
    /// <paramref name="firstByte"/> must be a multiple of 16 (a block boundary) and the length a whole number of
    /// elements. Ring elements are little-endian in memory here (as on every platform .NET's AES-NI path runs on).
    /// </summary>
    internal static void Apply(PrgKey key, Span<byte> destination, long firstByte, bool subtract, int ringBits)
    {
        if ((firstByte & (BlockBytes - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(firstByte), firstByte, "must be a multiple of 16");
        }
        if (ringBits is not (32 or 64) || destination.Length % (ringBits / 8) != 0)
        {
            throw new ArgumentException($"{destination.Length} bytes is not a whole number of {ringBits}-bit elements");
        }
        var firstBlock = (ulong)firstByte / BlockBytes;
        if (X86Aes.IsSupported && X86Sse2.IsSupported && BitConverter.IsLittleEndian)
        {
            switch ((ringBits, subtract))
            {
                case (64, false):
                    ApplyAesNi<Add64>(key.RoundKeys!, destination, firstBlock);
                    break;
                case (64, true):
                    ApplyAesNi<Subtract64>(key.RoundKeys!, destination, firstBlock);
                    break;
                case (32, false):
                    ApplyAesNi<Add32>(key.RoundKeys!, destination, firstBlock);
                    break;
                default:
                    ApplyAesNi<Subtract32>(key.RoundKeys!, destination, firstBlock);
                    break;
            }
        }
        else
        {
            ApplyPortable(key.Key, destination, firstBlock, subtract, ringBits);
        }
    }

    // Fully optimised from the first call: at tier 0 this loop is an order of magnitude slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ApplyAesNi<TOp>(Vector128<byte>[] rk, Span<byte> destination, ulong firstBlock)
        where TOp : struct, IMaskOp
    {
        var k0 = rk[0];
        var k1 = rk[1];
        var k2 = rk[2];
        var k3 = rk[3];
        var k4 = rk[4];
        var k5 = rk[5];
        var k6 = rk[6];
        var k7 = rk[7];
        var k8 = rk[8];
        var k9 = rk[9];
        var k10 = rk[10];
        var one = Vector128.Create(1UL, 0UL);
        var counter = Vector128.Create(firstBlock, 0UL);
        ref var start = ref MemoryMarshal.GetReference(destination);
        var i = 0;
        for (; i + (8 * BlockBytes) <= destination.Length; i += 8 * BlockBytes)
        {
            var b0 = counter.AsByte() ^ k0;
            counter += one;
            var b1 = counter.AsByte() ^ k0;
            counter += one;
            var b2 = counter.AsByte() ^ k0;
            counter += one;
            var b3 = counter.AsByte() ^ k0;
            counter += one;
            var b4 = counter.AsByte() ^ k0;
            counter += one;
            var b5 = counter.AsByte() ^ k0;
            counter += one;
            var b6 = counter.AsByte() ^ k0;
            counter += one;
            var b7 = counter.AsByte() ^ k0;
            counter += one;
            b0 = X86Aes.Encrypt(b0, k1); b1 = X86Aes.Encrypt(b1, k1); b2 = X86Aes.Encrypt(b2, k1); b3 = X86Aes.Encrypt(b3, k1);
            b4 = X86Aes.Encrypt(b4, k1); b5 = X86Aes.Encrypt(b5, k1); b6 = X86Aes.Encrypt(b6, k1); b7 = X86Aes.Encrypt(b7, k1);
            b0 = X86Aes.Encrypt(b0, k2); b1 = X86Aes.Encrypt(b1, k2); b2 = X86Aes.Encrypt(b2, k2); b3 = X86Aes.Encrypt(b3, k2);
            b4 = X86Aes.Encrypt(b4, k2); b5 = X86Aes.Encrypt(b5, k2); b6 = X86Aes.Encrypt(b6, k2); b7 = X86Aes.Encrypt(b7, k2);
            b0 = X86Aes.Encrypt(b0, k3); b1 = X86Aes.Encrypt(b1, k3); b2 = X86Aes.Encrypt(b2, k3); b3 = X86Aes.Encrypt(b3, k3);
            b4 = X86Aes.Encrypt(b4, k3); b5 = X86Aes.Encrypt(b5, k3); b6 = X86Aes.Encrypt(b6, k3); b7 = X86Aes.Encrypt(b7, k3);
            b0 = X86Aes.Encrypt(b0, k4); b1 = X86Aes.Encrypt(b1, k4); b2 = X86Aes.Encrypt(b2, k4); b3 = X86Aes.Encrypt(b3, k4);
            b4 = X86Aes.Encrypt(b4, k4); b5 = X86Aes.Encrypt(b5, k4); b6 = X86Aes.Encrypt(b6, k4); b7 = X86Aes.Encrypt(b7, k4);
            b0 = X86Aes.Encrypt(b0, k5); b1 = X86Aes.Encrypt(b1, k5); b2 = X86Aes.Encrypt(b2, k5); b3 = X86Aes.Encrypt(b3, k5);
            b4 = X86Aes.Encrypt(b4, k5); b5 = X86Aes.Encrypt(b5, k5); b6 = X86Aes.Encrypt(b6, k5); b7 = X86Aes.Encrypt(b7, k5);
            b0 = X86Aes.Encrypt(b0, k6); b1 = X86Aes.Encrypt(b1, k6); b2 = X86Aes.Encrypt(b2, k6); b3 = X86Aes.Encrypt(b3, k6);
            b4 = X86Aes.Encrypt(b4, k6); b5 = X86Aes.Encrypt(b5, k6); b6 = X86Aes.Encrypt(b6, k6); b7 = X86Aes.Encrypt(b7, k6);
            b0 = X86Aes.Encrypt(b0, k7); b1 = X86Aes.Encrypt(b1, k7); b2 = X86Aes.Encrypt(b2, k7); b3 = X86Aes.Encrypt(b3, k7);
            b4 = X86Aes.Encrypt(b4, k7); b5 = X86Aes.Encrypt(b5, k7); b6 = X86Aes.Encrypt(b6, k7); b7 = X86Aes.Encrypt(b7, k7);
            b0 = X86Aes.Encrypt(b0, k8); b1 = X86Aes.Encrypt(b1, k8); b2 = X86Aes.Encrypt(b2, k8); b3 = X86Aes.Encrypt(b3, k8);
            b4 = X86Aes.Encrypt(b4, k8); b5 = X86Aes.Encrypt(b5, k8); b6 = X86Aes.Encrypt(b6, k8); b7 = X86Aes.Encrypt(b7, k8);
            b0 = X86Aes.Encrypt(b0, k9); b1 = X86Aes.Encrypt(b1, k9); b2 = X86Aes.Encrypt(b2, k9); b3 = X86Aes.Encrypt(b3, k9);
            b4 = X86Aes.Encrypt(b4, k9); b5 = X86Aes.Encrypt(b5, k9); b6 = X86Aes.Encrypt(b6, k9); b7 = X86Aes.Encrypt(b7, k9);
            b0 = X86Aes.EncryptLast(b0, k10); b1 = X86Aes.EncryptLast(b1, k10); b2 = X86Aes.EncryptLast(b2, k10); b3 = X86Aes.EncryptLast(b3, k10);
            b4 = X86Aes.EncryptLast(b4, k10); b5 = X86Aes.EncryptLast(b5, k10); b6 = X86Aes.EncryptLast(b6, k10); b7 = X86Aes.EncryptLast(b7, k10);
            ref var p = ref Unsafe.Add(ref start, i);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 0), b0).StoreUnsafe(ref p, 0);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 16), b1).StoreUnsafe(ref p, 16);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 32), b2).StoreUnsafe(ref p, 32);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 48), b3).StoreUnsafe(ref p, 48);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 64), b4).StoreUnsafe(ref p, 64);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 80), b5).StoreUnsafe(ref p, 80);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 96), b6).StoreUnsafe(ref p, 96);
            TOp.Apply(Vector128.LoadUnsafe(ref p, 112), b7).StoreUnsafe(ref p, 112);
        }
        // Tail: one block at a time, the last possibly partly used (through a 16-byte copy).
        Span<byte> partial = stackalloc byte[BlockBytes];
        for (; i < destination.Length; i += BlockBytes)
        {
            var block = counter.AsByte() ^ k0;
            counter += one;
            for (var r = 1; r < 10; r++)
            {
                block = X86Aes.Encrypt(block, rk[r]);
            }
            block = X86Aes.EncryptLast(block, k10);
            var length = Math.Min(BlockBytes, destination.Length - i);
            partial.Clear();
            destination.Slice(i, length).CopyTo(partial);
            TOp.Apply(Vector128.Create<byte>(partial), block).CopyTo(partial);
            partial[..length].CopyTo(destination.Slice(i, length));
        }
    }

    private static void ApplyPortable(byte[] key, Span<byte> destination, ulong firstBlock, bool subtract, int ringBits)
    {
        using var aes = System.Security.Cryptography.Aes.Create();
        aes.Key = key;
        const int ChunkBlocks = 2048;
        var buffer = new byte[ChunkBlocks * BlockBytes];
        for (var i = 0; i < destination.Length; i += ChunkBlocks * BlockBytes)
        {
            var count = Math.Min(ChunkBlocks * BlockBytes, destination.Length - i);
            var blocks = (count + BlockBytes - 1) / BlockBytes;
            for (var b = 0; b < blocks; b++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(b * BlockBytes), firstBlock + (ulong)(i / BlockBytes + b));
                BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(b * BlockBytes + 8), 0);
            }
            aes.EncryptEcb(buffer.AsSpan(0, blocks * BlockBytes), buffer.AsSpan(0, blocks * BlockBytes), PaddingMode.None);
            var target = destination.Slice(i, count);
            if (ringBits == 64)
            {
                for (var j = 0; j < count; j += 8)
                {
                    var w = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(j));
                    var v = BinaryPrimitives.ReadUInt64LittleEndian(target[j..]);
                    BinaryPrimitives.WriteUInt64LittleEndian(target[j..], subtract ? v - w : v + w);
                }
            }
            else
            {
                for (var j = 0; j < count; j += 4)
                {
                    var w = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(j));
                    var v = BinaryPrimitives.ReadUInt32LittleEndian(target[j..]);
                    BinaryPrimitives.WriteUInt32LittleEndian(target[j..], subtract ? v - w : v + w);
                }
            }
        }
    }

    /// <summary>A generator key with its AES-128 round keys expanded once (AES-NI path).</summary>
    internal sealed class PrgKey
    {
        public PrgKey(byte[] key)
        {
            if (key.Length != KeySize)
            {
                throw new ArgumentException($"a generator key is {KeySize} bytes, got {key.Length}");
            }
            Key = key;
            if (X86Aes.IsSupported && X86Sse2.IsSupported)
            {
                RoundKeys = ExpandKey(Vector128.Create(key));
            }
        }

        public byte[] Key { get; }

        public Vector128<byte>[]? RoundKeys { get; }

        private static Vector128<byte>[] ExpandKey(Vector128<byte> key)
        {
            // AESKEYGENASSIST takes its round constant as an immediate, hence the unrolled schedule.
            var rk = new Vector128<byte>[11];
            rk[0] = key;
            rk[1] = Step(rk[0], X86Aes.KeygenAssist(rk[0], 0x01));
            rk[2] = Step(rk[1], X86Aes.KeygenAssist(rk[1], 0x02));
            rk[3] = Step(rk[2], X86Aes.KeygenAssist(rk[2], 0x04));
            rk[4] = Step(rk[3], X86Aes.KeygenAssist(rk[3], 0x08));
            rk[5] = Step(rk[4], X86Aes.KeygenAssist(rk[4], 0x10));
            rk[6] = Step(rk[5], X86Aes.KeygenAssist(rk[5], 0x20));
            rk[7] = Step(rk[6], X86Aes.KeygenAssist(rk[6], 0x40));
            rk[8] = Step(rk[7], X86Aes.KeygenAssist(rk[7], 0x80));
            rk[9] = Step(rk[8], X86Aes.KeygenAssist(rk[8], 0x1B));
            rk[10] = Step(rk[9], X86Aes.KeygenAssist(rk[9], 0x36));
            return rk;
        }

        private static Vector128<byte> Step(Vector128<byte> previous, Vector128<byte> assist)
        {
            assist = X86Sse2.Shuffle(assist.AsInt32(), 0xFF).AsByte();
            previous ^= X86Sse2.ShiftLeftLogical128BitLane(previous, 4);
            previous ^= X86Sse2.ShiftLeftLogical128BitLane(previous, 4);
            previous ^= X86Sse2.ShiftLeftLogical128BitLane(previous, 4);
            return previous ^ assist;
        }
    }

    private interface IMaskOp
    {
        static abstract Vector128<byte> Apply(Vector128<byte> value, Vector128<byte> mask);
    }

    private readonly struct Add64 : IMaskOp
    {
        public static Vector128<byte> Apply(Vector128<byte> value, Vector128<byte> mask) => (value.AsUInt64() + mask.AsUInt64()).AsByte();
    }

    private readonly struct Subtract64 : IMaskOp
    {
        public static Vector128<byte> Apply(Vector128<byte> value, Vector128<byte> mask) => (value.AsUInt64() - mask.AsUInt64()).AsByte();
    }

    private readonly struct Add32 : IMaskOp
    {
        public static Vector128<byte> Apply(Vector128<byte> value, Vector128<byte> mask) => (value.AsUInt32() + mask.AsUInt32()).AsByte();
    }

    private readonly struct Subtract32 : IMaskOp
    {
        public static Vector128<byte> Apply(Vector128<byte> value, Vector128<byte> mask) => (value.AsUInt32() - mask.AsUInt32()).AsByte();
    }
}
