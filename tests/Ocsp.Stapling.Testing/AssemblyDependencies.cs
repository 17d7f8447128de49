using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// What each type of a built assembly uses, and the source folder each type is declared in: read from the assembly's
/// metadata and IL (every token a method body names, signatures, base types, interfaces, fields) and from its portable
/// PDB (the documents of each type's methods, and the type-definition documents of types without method bodies).
/// Compiler-generated nested types (lambdas, async state machines) count as their outermost declaring type.
/// </summary>
internal sealed class AssemblyDependencies
{
    private static readonly Guid TypeDefinitionDocumentsKind = new("932E74BC-DBA9-4478-8D46-0F32A7BAB3D3");
    private static readonly Dictionary<short, OperandType> Operands = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value, o => o.OperandType);

    private AssemblyDependencies(IReadOnlyDictionary<string, IReadOnlySet<string>> folders, IReadOnlyDictionary<string, IReadOnlySet<string>> uses)
    {
        Folders = folders;
        Uses = uses;
    }

    /// <summary>Gets the source folders (relative to the project directory, '/'-separated) of each top-level type, by full name.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> Folders { get; }

    /// <summary>Gets the other top-level types of the same assembly each top-level type uses, by full name.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> Uses { get; }

    /// <summary>Reads <paramref name="assembly"/> and its PDB; folders are taken relative to <paramref name="projectDirectoryName"/> (e.g. <c>src/Ocsp.Stapling/</c>).</summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "Tests read assemblies from their files; this library is in the samples for their demo PKI, which never calls it.")]
    public static AssemblyDependencies Read(Assembly assembly, string projectDirectoryName)
    {
        string path = assembly.Location;
        string pdbPath = Path.ChangeExtension(path, ".pdb");
        if (!File.Exists(pdbPath))
        {
            throw new InvalidOperationException($"No portable PDB next to {path}: the dependency test needs it to know each type's source folder.");
        }

        using var pe = new PEReader(File.OpenRead(path));
        using MetadataReaderProvider pdbProvider = MetadataReaderProvider.FromPortablePdbStream(File.OpenRead(pdbPath));
        MetadataReader metadata = pe.GetMetadataReader();
        MetadataReader pdb = pdbProvider.GetMetadataReader();

        var folders = new Dictionary<TypeDefinitionHandle, HashSet<string>>();
        void AddFolder(TypeDefinitionHandle type, DocumentHandle document)
        {
            string name = pdb.GetString(pdb.GetDocument(document).Name).Replace('\\', '/');
            int at = name.IndexOf(projectDirectoryName, StringComparison.Ordinal);
            if (at < 0 || name.Contains("/obj/", StringComparison.Ordinal) || name.Contains("/artifacts/", StringComparison.Ordinal))
            {
                return; // generated code (source generators) or a file of another project
            }

            string relative = name[(at + projectDirectoryName.Length)..];
            int slash = relative.LastIndexOf('/');
            string folder = slash < 0 ? "." : relative[..slash];
            TypeDefinitionHandle top = Outermost(metadata, type);
            if (!folders.TryGetValue(top, out HashSet<string>? set))
            {
                folders[top] = set = [];
            }

            set.Add(folder);
        }

        foreach (MethodDefinitionHandle method in metadata.MethodDefinitions)
        {
            MethodDebugInformation debug = pdb.GetMethodDebugInformation(method);
            DocumentHandle document = debug.Document;
            if (document.IsNil)
            {
                foreach (SequencePoint point in debug.GetSequencePoints())
                {
                    document = point.Document;
                    break;
                }
            }

            if (!document.IsNil)
            {
                AddFolder(metadata.GetMethodDefinition(method).GetDeclaringType(), document);
            }
        }

        foreach (CustomDebugInformationHandle handle in pdb.CustomDebugInformation)
        {
            CustomDebugInformation information = pdb.GetCustomDebugInformation(handle);
            if (information.Parent.Kind != HandleKind.TypeDefinition || pdb.GetGuid(information.Kind) != TypeDefinitionDocumentsKind)
            {
                continue;
            }

            BlobReader blob = pdb.GetBlobReader(information.Value);
            while (blob.RemainingBytes > 0)
            {
                AddFolder((TypeDefinitionHandle)information.Parent, MetadataTokens.DocumentHandle(blob.ReadCompressedInteger()));
            }
        }

        var uses = new Dictionary<TypeDefinitionHandle, HashSet<TypeDefinitionHandle>>();
        var signatures = new TypeCollector(metadata);
        foreach (TypeDefinitionHandle handle in metadata.TypeDefinitions)
        {
            TypeDefinitionHandle top = Outermost(metadata, handle);
            if (!uses.TryGetValue(top, out HashSet<TypeDefinitionHandle>? used))
            {
                uses[top] = used = [];
            }

            TypeDefinition type = metadata.GetTypeDefinition(handle);
            signatures.Collect(type.BaseType, used);
            foreach (InterfaceImplementationHandle implemented in type.GetInterfaceImplementations())
            {
                signatures.Collect(metadata.GetInterfaceImplementation(implemented).Interface, used);
            }

            foreach (FieldDefinitionHandle field in type.GetFields())
            {
                signatures.CollectField(metadata.GetFieldDefinition(field), used);
            }

            foreach (MethodDefinitionHandle methodHandle in type.GetMethods())
            {
                MethodDefinition method = metadata.GetMethodDefinition(methodHandle);
                signatures.CollectMethodSignature(method.Signature, used);
                if (method.RelativeVirtualAddress != 0)
                {
                    MethodBodyBlock body = pe.GetMethodBody(method.RelativeVirtualAddress);
                    if (!body.LocalSignature.IsNil)
                    {
                        signatures.CollectLocals(body.LocalSignature, used);
                    }

                    foreach (EntityHandle token in Tokens(body.GetILReader()))
                    {
                        signatures.Collect(token, used);
                    }
                }
            }
        }

        string Name(TypeDefinitionHandle handle)
        {
            TypeDefinition type = metadata.GetTypeDefinition(handle);
            string name = metadata.GetString(type.Name);
            string ns = metadata.GetString(type.Namespace);
            return ns.Length == 0 ? name : ns + "." + name;
        }

        return new AssemblyDependencies(
            folders.ToDictionary(p => Name(p.Key), p => (IReadOnlySet<string>)p.Value.ToImmutableSortedSet(StringComparer.Ordinal)),
            uses.ToDictionary(
                p => Name(p.Key),
                p => (IReadOnlySet<string>)p.Value.Select(u => Outermost(metadata, u)).Where(u => u != p.Key).Select(Name).ToImmutableSortedSet(StringComparer.Ordinal)));
    }

    private static TypeDefinitionHandle Outermost(MetadataReader metadata, TypeDefinitionHandle type)
    {
        while (true)
        {
            TypeDefinitionHandle declaring = metadata.GetTypeDefinition(type).GetDeclaringType();
            if (declaring.IsNil)
            {
                return type;
            }

            type = declaring;
        }
    }

    /// <summary>Every metadata token an IL body names (fields, methods, types, signatures, tokens of ldtoken).</summary>
    private static List<EntityHandle> Tokens(BlobReader il)
    {
        var tokens = new List<EntityHandle>();
        while (il.RemainingBytes > 0)
        {
            short value = il.ReadByte();
            if (value == 0xFE)
            {
                value = unchecked((short)(0xFE00 | il.ReadByte()));
            }

            switch (Operands[value])
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    il.Offset += 1;
                    break;
                case OperandType.InlineVar:
                    il.Offset += 2;
                    break;
                case OperandType.InlineI:
                case OperandType.InlineBrTarget:
                case OperandType.ShortInlineR:
                case OperandType.InlineString:
                    il.Offset += 4;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    il.Offset += 8;
                    break;
                case OperandType.InlineSwitch:
                    int count = il.ReadInt32();
                    il.Offset += count * 4;
                    break;
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineTok:
                case OperandType.InlineType:
                case OperandType.InlineSig:
                    tokens.Add(MetadataTokens.EntityHandle(il.ReadInt32()));
                    break;
                default:
                    throw new InvalidOperationException($"Unknown IL operand type of opcode 0x{value:X}.");
            }
        }

        return tokens;
    }

    /// <summary>
    /// Collects the type definitions of this assembly that a token or a signature names: the signature decoder reports
    /// every type it meets to <see cref="GetTypeFromDefinition"/>, which adds it to the set being filled.
    /// </summary>
    private sealed class TypeCollector(MetadataReader metadata) : ISignatureTypeProvider<TypeDefinitionHandle?, HashSet<TypeDefinitionHandle>>
    {
        private HashSet<TypeDefinitionHandle> _sink = [];

        public void Collect(EntityHandle handle, HashSet<TypeDefinitionHandle> used)
        {
            _sink = used;
            if (handle.IsNil)
            {
                return;
            }

            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition:
                    used.Add((TypeDefinitionHandle)handle);
                    break;
                case HandleKind.TypeSpecification:
                    metadata.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, used);
                    break;
                case HandleKind.MethodDefinition:
                    used.Add(metadata.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.FieldDefinition:
                    used.Add(metadata.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.MemberReference:
                    MemberReference member = metadata.GetMemberReference((MemberReferenceHandle)handle);
                    Collect(member.Parent, used);
                    if (member.GetKind() == MemberReferenceKind.Method)
                    {
                        member.DecodeMethodSignature(this, used);
                    }
                    else
                    {
                        member.DecodeFieldSignature(this, used);
                    }

                    break;
                case HandleKind.MethodSpecification:
                    MethodSpecification specification = metadata.GetMethodSpecification((MethodSpecificationHandle)handle);
                    Collect(specification.Method, used);
                    specification.DecodeSignature(this, used);
                    break;
                case HandleKind.StandaloneSignature:
                    CollectLocals((StandaloneSignatureHandle)handle, used);
                    break;
            }
        }

        public void CollectField(FieldDefinition field, HashSet<TypeDefinitionHandle> used)
        {
            _sink = used;
            field.DecodeSignature(this, used);
        }

        public void CollectMethodSignature(BlobHandle signature, HashSet<TypeDefinitionHandle> used)
        {
            _sink = used;
            BlobReader blob = metadata.GetBlobReader(signature);
            new SignatureDecoder<TypeDefinitionHandle?, HashSet<TypeDefinitionHandle>>(this, metadata, used).DecodeMethodSignature(ref blob);
        }

        public void CollectLocals(StandaloneSignatureHandle handle, HashSet<TypeDefinitionHandle> used)
        {
            _sink = used;
            StandaloneSignature signature = metadata.GetStandaloneSignature(handle);
            if (signature.GetKind() == StandaloneSignatureKind.LocalVariables)
            {
                signature.DecodeLocalSignature(this, used);
            }
            else
            {
                signature.DecodeMethodSignature(this, used);
            }
        }

        public TypeDefinitionHandle? GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            _sink.Add(handle);
            return handle;
        }

        public TypeDefinitionHandle? GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => null;

        public TypeDefinitionHandle? GetTypeFromSpecification(MetadataReader reader, HashSet<TypeDefinitionHandle> context, TypeSpecificationHandle handle, byte rawTypeKind)
        {
            reader.GetTypeSpecification(handle).DecodeSignature(this, context);
            return null;
        }

        public TypeDefinitionHandle? GetGenericInstantiation(TypeDefinitionHandle? genericType, ImmutableArray<TypeDefinitionHandle?> typeArguments) => genericType;

        public TypeDefinitionHandle? GetSZArrayType(TypeDefinitionHandle? elementType) => elementType;

        public TypeDefinitionHandle? GetArrayType(TypeDefinitionHandle? elementType, ArrayShape shape) => elementType;

        public TypeDefinitionHandle? GetByReferenceType(TypeDefinitionHandle? elementType) => elementType;

        public TypeDefinitionHandle? GetPointerType(TypeDefinitionHandle? elementType) => elementType;

        public TypeDefinitionHandle? GetPinnedType(TypeDefinitionHandle? elementType) => elementType;

        public TypeDefinitionHandle? GetModifiedType(TypeDefinitionHandle? modifier, TypeDefinitionHandle? unmodifiedType, bool isRequired) => unmodifiedType;

        public TypeDefinitionHandle? GetFunctionPointerType(MethodSignature<TypeDefinitionHandle?> signature) => null;

        public TypeDefinitionHandle? GetGenericMethodParameter(HashSet<TypeDefinitionHandle> genericContext, int index) => null;

        public TypeDefinitionHandle? GetGenericTypeParameter(HashSet<TypeDefinitionHandle> genericContext, int index) => null;

        public TypeDefinitionHandle? GetPrimitiveType(PrimitiveTypeCode typeCode) => null;
    }
}
