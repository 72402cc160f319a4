// curand_gen.cu - cuRAND: a device generator (Philox4x32-10, fixed seed and
// offset, on a created stream) fills uniform floats then normal floats on
// the device; a host generator (curandCreateGeneratorHost) of the same type,
// seed, offset and ordering fills the same on the CPU.  The uniforms must
// match bit for bit; the normals (Box-Muller through the CPU's and the GPU's
// log/sin/cos, not bit-identical) to a relative 1e-5, and the sample means and
// variances must be sane.  Prints "curand_gen: OK ..." or "curand_gen: FAIL <what>".
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <curand.h>
#include <cuda_runtime.h>

#define TEST_NAME "curand_gen"
#include "check.h"

#define CHECK_RAND(call)                                             \
	do {                                                         \
		curandStatus_t r_ = (call);                          \
		if (r_ != CURAND_STATUS_SUCCESS)                     \
			FAIL("%s: curandStatus %d", #call, (int)r_); \
	} while (0)

#define SEED 1234567ULL
#define OFFSET 4096ULL

/* Sets up a generator of either kind the same way. */
static int setup(curandGenerator_t g)
{
	CHECK_RAND(curandSetPseudoRandomGeneratorSeed(g, SEED));
	CHECK_RAND(curandSetGeneratorOffset(g, OFFSET));
	CHECK_RAND(curandSetGeneratorOrdering(g, CURAND_ORDERING_PSEUDO_DEFAULT));
	return 0;
}

static void moments(const std::vector<float> &v, double *mean, double *var)
{
	double s = 0.0, s2 = 0.0;

	for (float x : v)
		s += x;
	*mean = s / v.size();
	for (float x : v)
		s2 += (x - *mean) * (x - *mean);
	*var = s2 / (v.size() - 1);
}

int main(void)
{
	const size_t n = 1 << 20;
	const float nmean = 1.0f, nstddev = 2.0f;
	curandGenerator_t dg, hg;
	cudaStream_t s;
	std::vector<float> du(n), dn(n), hu(n), hn(n);
	float *d;
	int version = 0;
	size_t exact = 0;
	double diff, maxdiff = 0.0;
	double mean, var;

	CHECK_RAND(curandGetVersion(&version));
	CHECK(cudaStreamCreate(&s));
	CHECK(cudaMalloc(&d, 2 * n * sizeof(float)));
	CHECK_RAND(curandCreateGenerator(&dg, CURAND_RNG_PSEUDO_PHILOX4_32_10));
	CHECK_RAND(curandSetStream(dg, s));
	if (setup(dg))
		return 1;
	CHECK_RAND(curandGenerateUniform(dg, d, n));
	CHECK_RAND(curandGenerateNormal(dg, d + n, n, nmean, nstddev));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaMemcpy(du.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost));
	CHECK(cudaMemcpy(dn.data(), d + n, n * sizeof(float), cudaMemcpyDeviceToHost));

	CHECK_RAND(curandCreateGeneratorHost(&hg, CURAND_RNG_PSEUDO_PHILOX4_32_10));
	if (setup(hg))
		return 1;
	CHECK_RAND(curandGenerateUniform(hg, hu.data(), n));
	CHECK_RAND(curandGenerateNormal(hg, hn.data(), n, nmean, nstddev));

	for (size_t i = 0; i < n; i++) {
		if (memcmp(&du[i], &hu[i], sizeof(float)) != 0)
			FAIL("uniform[%zu]: device %.9g, host %.9g", i, (double)du[i],
			     (double)hu[i]);
		if (!(du[i] > 0.0f && du[i] <= 1.0f))
			FAIL("uniform[%zu] = %.9g is outside (0, 1]", i, (double)du[i]);
		diff = fabs((double)dn[i] - hn[i]);
		if (!(diff <= 1e-5 * (fabs(hn[i]) + 1.0)))
			FAIL("normal[%zu]: device %.9g, host %.9g", i, (double)dn[i],
			     (double)hn[i]);
		exact += memcmp(&dn[i], &hn[i], sizeof(float)) == 0;
		maxdiff = fmax(maxdiff, diff);
	}
	moments(du, &mean, &var);
	if (fabs(mean - 0.5) > 0.005 || fabs(var - 1.0 / 12) > 0.005)
		FAIL("uniform mean %g, variance %g", mean, var);
	moments(dn, &mean, &var);
	if (fabs(mean - nmean) > 0.02 || fabs(var - nstddev * nstddev) > 0.05)
		FAIL("normal mean %g, variance %g", mean, var);

	/* a different seed must give a different sequence */
	CHECK_RAND(curandSetPseudoRandomGeneratorSeed(dg, SEED + 1));
	CHECK_RAND(curandGenerateUniform(dg, d, n));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaMemcpy(hu.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost));
	if (memcmp(hu.data(), du.data(), n * sizeof(float)) == 0)
		FAIL("seed %llu gave the same uniforms as seed %llu", SEED + 1, SEED);

	CHECK_RAND(curandDestroyGenerator(dg));
	CHECK_RAND(curandDestroyGenerator(hg));
	CHECK(cudaFree(d));
	CHECK(cudaStreamDestroy(s));
	printf("curand_gen: OK (cuRAND %d; %zu uniforms bit-exact, normals %zu/%zu bit-exact, "
	       "max difference %.2g)\n", version, n, exact, n, maxdiff);
	return 0;
}
