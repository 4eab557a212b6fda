/*
 * A stand-in for Windows' bcryptprimitives.dll, for running Windows builds under wine
 * only (never shipped): Rust's std imports ProcessPrng from that DLL (Windows 8 and
 * later have it), and wine 8 does not provide it. It fills the buffer from
 * RtlGenRandom (advapi32's SystemFunction036), as ProcessPrng does from the system's
 * generator; like ProcessPrng, it always returns TRUE.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
